package io.mcpoauth.core;

/**
 * How a tool reaches the signed-in user's own credentials at the upstream identity provider (Google, Microsoft,
 * GitHub, an OpenID Connect provider). Never the client's bearer token: that one is for this server only.
 */
public interface IdpAccess {
    /**
     * A currently valid upstream access token of {@code userId}, refreshed first when it is about to expire.
     *
     * @throws ReauthenticationRequired when no usable upstream token exists (never connected, disconnected, refused by
     *                                  the provider with {@code invalid_grant}, or unreadable): the user must sign in again
     * @throws Unavailable              when the provider could not be reached; retrying later may succeed
     */
    String accessToken(String userId);

    /** Deletes everything stored for the user upstream (when the user is removed); true when something was deleted. */
    default boolean forget(String userId) {
        return false;
    }

    /** The user has to sign in upstream again; the message says where, and is safe to show. */
    final class ReauthenticationRequired extends RuntimeException {
        public ReauthenticationRequired(String message) {
            super(message, null, false, false);
        }
    }

    /** The provider did not answer in time or failed; nothing was deleted. The message is safe to show. */
    final class Unavailable extends RuntimeException {
        public Unavailable(String message) {
            super(message, null, false, false);
        }
    }
}
