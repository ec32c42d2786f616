package io.mcpoauth.core;

import java.util.Set;

/**
 * Who is calling a tool, derived from the bearer token by construction: tools never take a user parameter.
 *
 * @param userId   stable key of the user, e.g. {@code local:alice} or {@code google:1234}
 * @param username what the user is called (login name or e-mail), for display
 * @param provider {@code local}, {@code google}, {@code azure}, {@code github} or {@code oidc}
 * @param clientId the OAuth client the token was issued to (or {@code apikey:<id>} for an API key)
 * @param scopes   the scopes granted to the token
 * @param grantId  the grant (refresh-token family) behind the token; null for API keys
 * @param upstream the user's credentials at the upstream identity provider; null with local sign-in
 * @param connections the user's vault of connections (third-party accounts, OAuth-protected MCP servers); null when
 *                    none are configured
 */
public record AuthContext(String userId, String username, String provider, String clientId, Set<String> scopes, String grantId,
                          IdpAccess upstream, ConnectionAccess connections) {
    /** {@code scopes} is never null: a null set becomes empty; the set is an unmodifiable copy. */
    public AuthContext {
        scopes = scopes == null ? Set.of() : java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(scopes));
    }

    /** A caller without connections. */
    public AuthContext(String userId, String username, String provider, String clientId, Set<String> scopes, String grantId,
                       IdpAccess upstream) {
        this(userId, username, provider, clientId, scopes, grantId, upstream, null);
    }

    /** A caller without upstream credentials (local sign-in, tests). */
    public AuthContext(String userId, String username, String provider, String clientId, Set<String> scopes, String grantId) {
        this(userId, username, provider, clientId, scopes, grantId, null);
    }

    public boolean hasScope(String scope) {
        return scope == null || scopes.contains(scope);
    }

    /**
     * The user's own access token at the upstream provider (refreshed when needed), for tools that call the provider's
     * APIs as the user. Never the client's bearer token.
     *
     * @throws IdpAccess.ReauthenticationRequired when the user has to sign in upstream again (or signs in locally)
     * @throws IdpAccess.Unavailable              when the provider cannot be reached right now
     */
    public String upstreamAccessToken() {
        if (upstream == null) {
            throw new IdpAccess.ReauthenticationRequired("local".equals(provider)
                    ? "This server signs users in locally: there is no upstream account to use."
                    : "No upstream credentials come with this kind of access; connect through OAuth to use your upstream account.");
        }
        return upstream.accessToken(userId);
    }

    /**
     * The caller's own token for the connection {@code name} (refreshed when needed), for tools and upstreams that call
     * a third-party service as the user.
     *
     * @throws ConnectionAccess.NotConnected when the user must connect first (or again)
     * @throws ConnectionAccess.Unavailable  when the provider cannot be reached right now
     */
    public ConnectionAccess.Token connection(String name) {
        if (connections == null) throw new ConnectionAccess.NotConnected(name, null, false, "No connection named '" + name + "' is configured on this server.");
        return connections.token(userId, name);
    }
}
