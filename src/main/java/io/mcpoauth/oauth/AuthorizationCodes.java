package io.mcpoauth.oauth;

import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Secrets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Authorization codes, in memory and single-use. After a code is redeemed, a tombstone remembers which grant it
 * produced, so a replay can revoke everything issued from the first use.
 */
public final class AuthorizationCodes {
    /** What a code stands for. */
    public record Code(String clientId, String userId, String redirectUri, boolean redirectUriGiven, String codeChallenge,
                       Set<String> scopes, String resource, Instant expiresAt) {}

    /** Markers in {@link #redeemed} while the first redemption is running (grant ids are never empty or "!"). */
    private static final String IN_PROGRESS = "";
    private static final String REPLAYED = "!";

    private final ExpiringMap<Code> codes;
    private final ExpiringMap<String> redeemed;
    private final Duration ttl;

    public AuthorizationCodes(Duration ttl, int max) {
        this.ttl = ttl;
        this.codes = new ExpiringMap<>(max);
        this.redeemed = new ExpiringMap<>(max);
    }

    /** Mints a code; null when memory is full (the caller answers temporarily_unavailable). */
    public String issue(AuthorizationRequest req, String userId, Instant now) {
        String code = Secrets.mint(Secrets.AUTH_CODE);
        Code c = new Code(req.client().clientId(), userId, req.redirectUri(), req.redirectUriGiven(), req.codeChallenge(),
                req.scopes(), req.resource(), now.plus(ttl));
        return codes.put(Secrets.hash(code), c, c.expiresAt(), now) ? code : null;
    }

    /**
     * Takes the code for redemption: exactly one caller ever gets it. From then on the code counts as used: a later
     * presentation is a replay (see {@link #replayed}), even while this redemption is still issuing its tokens.
     */
    public Code take(String code, Instant now) {
        if (code == null) return null;
        String h = Secrets.hash(code);
        synchronized (this) {
            Code c = codes.take(h, now);
            if (c != null) redeemed.put(h, IN_PROGRESS, now.plus(ttl).plus(ttl), now);
            return c;
        }
    }

    /**
     * Records the grant a redemption produced, for replay detection, until well after the code would have expired.
     * False when the code was presented again while the grant was being issued: the caller revokes it then.
     */
    public synchronized boolean markRedeemed(String code, String grantId, Instant now) {
        String h = Secrets.hash(code);
        boolean replayed = REPLAYED.equals(redeemed.get(h, now));
        redeemed.put(h, grantId, now.plus(ttl).plus(ttl), now);
        return !replayed;
    }

    /** A redemption that failed after {@link #take} (wrong client, verifier...): the code is spent but produced nothing. */
    public synchronized void forget(String code) {
        redeemed.remove(Secrets.hash(code));
    }

    /**
     * For a code that {@link #take} refused: null when it is unknown or expired; otherwise it was used before, and the
     * answer is the grant that use produced, or "" when that redemption is still running (it is flagged, and its
     * grant is revoked as soon as it exists).
     */
    public synchronized String replayed(String code, Instant now) {
        if (code == null) return null;
        String h = Secrets.hash(code);
        String grant = redeemed.get(h, now);
        if (grant == null) return null;
        if (grant.equals(IN_PROGRESS) || grant.equals(REPLAYED)) {
            redeemed.put(h, REPLAYED, now.plus(ttl).plus(ttl), now);
            return "";
        }
        return grant;
    }

    /** Drops every unredeemed code of a user (the user was removed). */
    public int forgetUser(String userId) {
        return codes.removeIf(c -> userId.equals(c.userId()));
    }

    /** Drops every unredeemed code of a client (the client was removed). */
    public int forgetClient(String clientId) {
        return codes.removeIf(c -> clientId.equals(c.clientId()));
    }

    public int sweep(Instant now) {
        return codes.sweep(now) + redeemed.sweep(now);
    }
}
