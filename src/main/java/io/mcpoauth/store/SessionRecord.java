package io.mcpoauth.store;

import java.time.Instant;

/**
 * A browser session of the sign-in and account pages, under the SHA-256 of its id (the cookie value, which is never
 * stored). {@code userId} is null until the user signs in; {@code browserId} names the browser and survives the new
 * session id that signing in issues, so a form opened in another tab before the sign-in stays valid.
 */
public record SessionRecord(String userId, String browserId, Instant expiresAt) implements ShortLivedStore.Owned {
    @Override
    public String clientId() {
        return null;
    }

    @Override
    public String toString() {
        return "SessionRecord[" + (userId == null ? "anonymous" : userId) + ", expires " + expiresAt + "]";
    }
}
