package io.mcpoauth.store;

import java.time.Instant;

/**
 * Access tokens, under the SHA-256 of the token. Short-lived: the file backend keeps them in memory (a restart
 * forgets them and clients refresh); a shared backend keeps them where every instance sees them.
 */
public interface AccessTokenStore {
    /** Stores the token; false when the store is full of live tokens (the caller answers 503). */
    boolean put(String tokenHash, AccessToken token, Instant now);

    /** The live token, or null. */
    AccessToken get(String tokenHash, Instant now);

    /** A token and its grant, read together. */
    record WithGrant(AccessToken token, RefreshFamily grant) {}

    /**
     * The live token and its grant as {@code grants} holds it now (null when the grant is gone), or null when the token
     * is not live. A store that keeps the grants too reads both in one query.
     */
    default WithGrant getWithGrant(String tokenHash, Instant now, GrantStore grants) {
        AccessToken t = get(tokenHash, now);
        if (t == null) return null;
        return new WithGrant(t, t.grantId() == null ? null : grants.get(t.grantId()));
    }

    boolean remove(String tokenHash);

    /** Removes every token of a grant; returns how many. */
    int removeByGrant(String grantId);

    /** Removes expired tokens; returns how many. */
    int sweep(Instant now);

    int count();
}
