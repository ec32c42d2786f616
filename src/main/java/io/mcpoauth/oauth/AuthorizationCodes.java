package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.CodeRecord;
import io.mcpoauth.store.ShortLivedStore;
import java.time.Duration;
import java.time.Instant;

/**
 * Authorization codes: single-use, over a {@link ShortLivedStore} (in memory with the file backend, shared with a
 * database). After a code is redeemed its record remembers which grant it produced, so a replay can revoke
 * everything issued from the first use.
 */
public final class AuthorizationCodes {
    private final ShortLivedStore<CodeRecord> codes;
    private final Duration ttl;

    public AuthorizationCodes(ShortLivedStore<CodeRecord> codes, Duration ttl) {
        this.codes = codes;
        this.ttl = ttl;
    }

    /** Mints a code; null when the store is full (the caller answers temporarily_unavailable). */
    public String issue(AuthorizationRequest req, String userId, Instant now) {
        String code = Secrets.mint(Secrets.AUTH_CODE);
        CodeRecord c = new CodeRecord(req.client().clientId(), userId, req.redirectUri(), req.redirectUriGiven(), req.codeChallenge(),
                req.scopes(), req.resource(), now.plus(ttl), CodeRecord.ISSUED, null);
        return codes.put(Secrets.hash(code), c, c.expiresAt(), now) ? code : null;
    }

    /** How long a used code is remembered, for replay detection: well after it would have expired. */
    private Instant remembered(Instant now) {
        return now.plus(ttl).plus(ttl);
    }

    /**
     * Takes the code for redemption: exactly one caller ever gets it. From then on the code counts as used: a later
     * presentation is a replay (see {@link #replayed}), even while this redemption is still issuing its tokens.
     */
    public CodeRecord take(String code, Instant now) {
        if (code == null) return null;
        String h = Secrets.hash(code);
        CodeRecord c = codes.get(h, now);
        if (c == null || !CodeRecord.ISSUED.equals(c.state()) || !c.expiresAt().isAfter(now)) return null;
        return codes.replace(h, c, c.with(CodeRecord.REDEEMING, null), remembered(now), now) ? c : null;
    }

    /**
     * Records the grant a redemption produced, for replay detection. False when the code was presented again while
     * the grant was being issued: the caller revokes it then.
     */
    public boolean markRedeemed(String code, String grantId, Instant now) {
        String h = Secrets.hash(code);
        while (true) {
            CodeRecord c = codes.get(h, now);
            if (c == null) return true; // forgotten meanwhile (its user or client was removed)
            boolean replayed = CodeRecord.REPLAYED.equals(c.state());
            if (codes.replace(h, c, c.with(CodeRecord.REDEEMED, grantId), remembered(now), now)) return !replayed;
        }
    }

    /** A redemption that failed after {@link #take} (wrong client, verifier...): the code is spent but produced nothing. */
    public void forget(String code) {
        codes.remove(Secrets.hash(code));
    }

    /**
     * For a code that {@link #take} refused: null when it is unknown or expired; otherwise it was used before, and the
     * answer is the grant that use produced, or "" when that redemption is still running (it is flagged, and its
     * grant is revoked as soon as it exists).
     */
    public String replayed(String code, Instant now) {
        if (code == null) return null;
        String h = Secrets.hash(code);
        while (true) {
            CodeRecord c = codes.get(h, now);
            if (c == null || CodeRecord.ISSUED.equals(c.state())) return null;
            if (CodeRecord.REDEEMED.equals(c.state())) return c.grantId();
            if (CodeRecord.REPLAYED.equals(c.state()) || codes.replace(h, c, c.with(CodeRecord.REPLAYED, null), remembered(now), now)) return "";
        }
    }

    public int sweep(Instant now) {
        return codes.sweep(now);
    }
}
