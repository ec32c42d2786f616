package io.mcpoauth.core;

import java.time.Instant;

/**
 * How tools and gateway upstreams reach the calling user's own connection to a third-party service or to an
 * OAuth-protected MCP server (the user's vault of connections): never another user's, never the client's bearer token.
 */
public interface ConnectionAccess {
    /**
     * A currently valid token of {@code userId} for the connection {@code name}, refreshed first when it is about to
     * expire.
     *
     * @throws NotConnected when the user has no usable connection (never connected, disconnected, or refused by the
     *                      provider with {@code invalid_grant}): the user must connect (again) at {@link NotConnected#connectUrl()}
     * @throws Unavailable  when the provider could not be reached; retrying later may succeed; nothing was deleted
     */
    Token token(String userId, String name);

    /** Told when a user's connection has become usable: a connect flow finished, or a secret was stored. */
    @FunctionalInterface
    interface Listener {
        /** Called on the thread that stored the connection; must not block. */
        void connected(String userId, String name);
    }

    /** Registers {@code listener} for every connection made from now on (by default nothing is ever told). */
    default void listen(Listener listener) {}

    /**
     * A user's token for one connection.
     *
     * @param connection the connection's name
     * @param value      the access token (or the static secret the user pasted)
     * @param expiresAt  when it stops working, null when not known
     * @param account    the account at the provider (e-mail or login) when the provider told, else null
     */
    record Token(String connection, String value, Instant expiresAt, String account) {
        @Override
        public String toString() {
            return "Token[connection=" + connection + ", account=" + account + "]";
        }

        /** The access token, for an {@code Authorization: Bearer} header. */
        public String accessToken() {
            return value;
        }
    }

    /** The user has to connect first (or again); the message and the URL are safe to show to that user. */
    final class NotConnected extends RuntimeException {
        private final String connection;
        private final String connectUrl;
        private final boolean reconnect;

        public NotConnected(String connection, String connectUrl, boolean reconnect, String message) {
            super(message, null, false, false);
            this.connection = connection;
            this.connectUrl = connectUrl;
            this.reconnect = reconnect;
        }

        public String connection() {
            return connection;
        }

        /** Where the signed-in user starts the connect flow; null when the connection is not configured at all. */
        public String connectUrl() {
            return connectUrl;
        }

        /** True when a connection existed and must be renewed (needs reconnect), false when there never was one. */
        public boolean reconnect() {
            return reconnect;
        }
    }

    /** The provider did not answer in time or failed; nothing was deleted. The message is safe to show. */
    final class Unavailable extends RuntimeException {
        public Unavailable(String message) {
            super(message, null, false, false);
        }
    }
}
