package io.mcpoauth.store;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.memory.ExpiringMap;
import java.time.Instant;

/**
 * Access tokens, in memory: opaque {@code mcpat_} strings, stored by SHA-256 hash. A restart forgets them all on
 * purpose; clients answer the 401 by refreshing with their persisted refresh token.
 */
public final class AccessTokens {
    private final ExpiringMap<AccessToken> tokens;

    public AccessTokens(int maxTokens) {
        this.tokens = new ExpiringMap<>(maxTokens);
    }

    /** Mints and stores a token; null when memory is full of live tokens (the caller answers 503). */
    public String issue(AccessToken record, Instant now) {
        String token = Secrets.mint(Secrets.ACCESS_TOKEN);
        return tokens.put(Secrets.hash(token), record, record.expiresAt(), now) ? token : null;
    }

    /** The live record behind {@code token}, or null. The caller also checks that the grant is still live. */
    public AccessToken find(String token, Instant now) {
        if (token == null || !token.startsWith(Secrets.ACCESS_TOKEN) || token.length() > 200) return null;
        return tokens.get(Secrets.hash(token), now);
    }

    public boolean revoke(String token) {
        return token != null && tokens.remove(Secrets.hash(token)) != null;
    }

    /** Drops every token of a grant (the grant check already refuses them; this frees the memory). */
    public int revokeGrant(String grantId) {
        return tokens.removeIf(t -> grantId.equals(t.grantId()));
    }

    public int sweep(Instant now) {
        return tokens.sweep(now);
    }

    public int size() {
        return tokens.size();
    }
}
