package io.mcpoauth.oauth;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.Events;
import io.mcpoauth.core.IdpAccess;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Authorization: Bearer mcpk_...} on {@code /mcp}: the key's user, with the key's scopes (those the server
 * still supports), as client {@code apikey:<id>}. Any other bearer token goes to the OAuth access-token check.
 * The key's last-used time is written at most once a minute; a failure to write it never refuses the request.
 */
public final class ApiKeyAuthenticator implements BearerAuthenticator {
    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAuthenticator.class);

    private final ApiKeys keys;
    private final UserStore users;
    private final Set<String> supportedScopes;
    private final Clock clock;
    private final Events events;
    private final BearerAuthenticator accessTokens;
    private final IdpAccess upstream;
    private final io.mcpoauth.core.ConnectionAccess connections;

    /** @param upstream the users' upstream credentials (null with local sign-in): a key acts as its user there too */
    public ApiKeyAuthenticator(ApiKeys keys, UserStore users, Set<String> supportedScopes, Clock clock, Events events,
                               BearerAuthenticator accessTokens, IdpAccess upstream) {
        this(keys, users, supportedScopes, clock, events, accessTokens, upstream, null);
    }

    /** @param connections the users' connections (null when none are configured): a key reaches its user's connections too */
    public ApiKeyAuthenticator(ApiKeys keys, UserStore users, Set<String> supportedScopes, Clock clock, Events events,
                               BearerAuthenticator accessTokens, IdpAccess upstream, io.mcpoauth.core.ConnectionAccess connections) {
        this.connections = connections;
        this.keys = keys;
        this.users = users;
        this.supportedScopes = Set.copyOf(supportedScopes);
        this.clock = clock;
        this.events = events;
        this.accessTokens = accessTokens;
        this.upstream = upstream;
    }

    @Override
    public AuthContext authenticate(String token) {
        if (token == null || !token.startsWith(Secrets.API_KEY)) return accessTokens.authenticate(token);
        ApiKeyRecord r = keys.find(token);
        UserRecord u = r == null ? null : users.get(r.userId());
        if (u == null) {
            events.apiKeyRejected(ApiKeys.idOf(token));
            return null;
        }
        boolean wrote = false;
        try {
            wrote = keys.markUsed(r.id(), clock.instant());
        } catch (StoreException e) {
            LOG.warn("Cannot record the last use of API key {}: {}", r.id(), e.getMessage());
        }
        events.apiKeyUsed(r.id(), u.userId(), wrote);
        Set<String> scopes = new LinkedHashSet<>(r.scopes());
        scopes.retainAll(supportedScopes);
        return new AuthContext(u.userId(), u.username(), u.provider(), "apikey:" + r.id(), scopes, null,
                "local".equals(u.provider()) ? null : upstream, connections);
    }
}
