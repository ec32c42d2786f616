package io.mcpoauth.oauth;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.IdpAccess;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Instant;

/**
 * Turns an access token into the caller for {@code /mcp}: the token must be live, its grant not revoked, issued for
 * our MCP resource (audience), and its user must still exist.
 */
public final class AccessTokenVerifier implements BearerAuthenticator {
    private final OAuthServices s;
    private final UserStore users;
    private final IdpAccess upstream;
    private final io.mcpoauth.core.ConnectionAccess connections;

    public AccessTokenVerifier(OAuthServices services, UserStore users) {
        this(services, users, null);
    }

    /** {@code upstream}: the users' upstream credentials for tools (null with local sign-in). */
    public AccessTokenVerifier(OAuthServices services, UserStore users, IdpAccess upstream) {
        this(services, users, upstream, null);
    }

    /** {@code connections}: the users' connections for tools and gateway upstreams (null when none are configured). */
    public AccessTokenVerifier(OAuthServices services, UserStore users, IdpAccess upstream, io.mcpoauth.core.ConnectionAccess connections) {
        this.connections = connections;
        this.s = services;
        this.users = users;
        this.upstream = upstream;
    }

    @Override
    public AuthContext authenticate(String token) {
        return authenticate(token, s.settings().mcpResource());
    }

    /**
     * The verifier of one protected resource ({@code <PUBLIC_URL>/mcp/NAME}): a token issued for another resource,
     * {@code /mcp} included, is refused (its audience is not this one).
     */
    public BearerAuthenticator forResource(String resource) {
        return token -> authenticate(token, resource);
    }

    private AuthContext authenticate(String token, String resource) {
        Instant now = s.clock().instant();
        AccessTokenStore.WithGrant found = s.accessTokens().findWithGrant(token, now, s.refreshTokens());
        if (found == null || !resource.equals(found.token().resource())) return null;
        AccessToken t = found.token();
        RefreshFamily grant = found.grant();
        if (grant == null || grant.expired(now)) return null; // access tokens of a revoked grant die with it
        UserRecord u = users.get(t.userId());
        // a grant made for a user who was removed, and perhaps created again since, belongs to nobody
        if (u == null || u.createdAt() != null && grant.createdAt().isBefore(u.createdAt())) return null;
        return new AuthContext(u.userId(), u.username(), u.provider(), t.clientId(), t.scopes(), t.grantId(),
                "local".equals(u.provider()) ? null : upstream, connections);
    }
}
