package io.mcpoauth.store;

import java.time.Instant;
import java.util.Set;

/** What an access token stands for; kept in memory only, under the SHA-256 of the token. */
public record AccessToken(String clientId, String userId, Set<String> scopes, String resource, String grantId, Instant expiresAt) {
    public AccessToken {
        scopes = Set.copyOf(scopes);
    }
}
