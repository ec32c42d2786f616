package io.mcpoauth.oauth;

import io.mcpoauth.store.ExpiringMap;
import io.mcpoauth.util.Secrets;
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

    /** Takes the code for redemption: exactly one caller ever gets it. */
    public Code take(String code, Instant now) {
        return code == null ? null : codes.take(Secrets.hash(code), now);
    }

    /** Remembers the grant the code produced, for replay detection, until well after the code would have expired. */
    public void markRedeemed(String code, String grantId, Instant now) {
        redeemed.put(Secrets.hash(code), grantId, now.plus(ttl).plus(ttl), now);
    }

    /** The grant produced by an earlier redemption of this code, or null. */
    public String redeemedGrant(String code, Instant now) {
        return code == null ? null : redeemed.get(Secrets.hash(code), now);
    }

    public int sweep(Instant now) {
        return codes.sweep(now) + redeemed.sweep(now);
    }
}
