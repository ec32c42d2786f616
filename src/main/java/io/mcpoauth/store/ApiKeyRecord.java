package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * An API key as kept in {@code api_keys.json}: for clients that can only send a fixed {@code Authorization} header.
 * The key itself reads {@code mcpk_<id>.<43 random characters>} and is shown once; only its SHA-256 is stored.
 * {@code lastUsedAt} is written at most once a minute per key.
 */
public record ApiKeyRecord(String id, String userId, String name, List<String> scopes, String hash, Instant createdAt, Instant lastUsedAt) {
    public ApiKeyRecord {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }

    /** What a key starts with, safe to show: {@code mcpk_<id>}. */
    public String prefix() {
        return io.mcpoauth.core.Secrets.API_KEY + id;
    }

    public ApiKeyRecord withLastUsedAt(Instant t) {
        return new ApiKeyRecord(id, userId, name, scopes, hash, createdAt, t);
    }
}
