package io.mcpoauth.store;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A pending authorization (between {@code GET /authorize} and the code), under its random id: the validated request
 * as plain data (the client as it was then, the redirect URI and whether it was given, the client's state, the PKCE
 * challenge, the scopes in the order asked for, the resource), the browser it belongs to, its CSRF token and, once
 * known, the user.
 */
public record PendingRecord(ClientRecord client, String redirectUri, boolean redirectUriGiven, String state, String codeChallenge,
                            Set<String> scopes, String resource, String browserId, String csrf, String userId, Instant expiresAt)
        implements ShortLivedStore.Owned {
    public PendingRecord {
        scopes = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(scopes)); // keeps the order asked for
    }

    @Override
    public String clientId() {
        return client.clientId();
    }

    /** The same authorization for another browser id and user (sign-in). */
    public PendingRecord with(String newBrowserId, String newUserId) {
        return new PendingRecord(client, redirectUri, redirectUriGiven, state, codeChallenge, scopes, resource, newBrowserId, csrf, newUserId, expiresAt);
    }

    @Override
    public String toString() {
        return "PendingRecord[" + client.clientId() + ", " + (userId == null ? "anonymous" : userId) + ", expires " + expiresAt + "]";
    }
}
