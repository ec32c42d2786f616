package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import java.time.Instant;

/**
 * Access tokens: opaque {@code mcpat_} strings, 256 random bits, kept only as their SHA-256 in the
 * {@link AccessTokenStore}. With the file backend a restart forgets them all on purpose; clients answer the 401 by
 * refreshing with their persisted refresh token.
 */
public final class AccessTokens {
    private final AccessTokenStore store;

    public AccessTokens(AccessTokenStore store) {
        this.store = store;
    }

    /** A new token and its hash, not stored yet. */
    public record Minted(String token, String hash) {}

    /** Mints a token for the caller to store (with a refresh-token rotation, in the same commit). */
    public Minted mint() {
        String token = Secrets.mint(Secrets.ACCESS_TOKEN);
        return new Minted(token, Secrets.hash(token));
    }

    /** Where the tokens are kept. */
    public AccessTokenStore store() {
        return store;
    }

    /** Mints and stores a token; null when the store is full of live tokens (the caller answers 503). */
    public String issue(AccessToken record, Instant now) {
        String token = Secrets.mint(Secrets.ACCESS_TOKEN);
        return store.put(Secrets.hash(token), record, now) ? token : null;
    }

    /** The live record behind {@code token} and its grant as stored now (null when revoked), or null; in one read where the store can. */
    public AccessTokenStore.WithGrant findWithGrant(String token, Instant now, RefreshTokens grants) {
        if (token == null || !token.startsWith(Secrets.ACCESS_TOKEN) || token.length() > 200) return null;
        return store.getWithGrant(Secrets.hash(token), now, grants.store());
    }

    /** The live record behind {@code token}, or null. The caller also checks that the grant is still live. */
    public AccessToken find(String token, Instant now) {
        if (token == null || !token.startsWith(Secrets.ACCESS_TOKEN) || token.length() > 200) return null;
        return store.get(Secrets.hash(token), now);
    }

    public boolean revoke(String token) {
        return token != null && store.remove(Secrets.hash(token));
    }

    /** Drops every token of a grant (the grant check already refuses them; this frees the memory). */
    public int revokeGrant(String grantId) {
        return store.removeByGrant(grantId);
    }

    public int sweep(Instant now) {
        return store.sweep(now);
    }

    public int size() {
        return store.count();
    }
}
