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

    boolean remove(String tokenHash);

    /** Removes every token of a grant; returns how many. */
    int removeByGrant(String grantId);

    /** Removes expired tokens; returns how many. */
    int sweep(Instant now);

    int count();
}
