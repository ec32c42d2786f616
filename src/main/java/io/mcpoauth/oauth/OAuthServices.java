package io.mcpoauth.oauth;

import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Events;
import io.mcpoauth.store.ClientStore;
import java.time.Clock;

/**
 * The shared pieces of the authorization server, handed to each group of endpoints. {@code events} receives the
 * security events (audit log and metrics): e.g. {@code s.events().clientRegistered(id, name)}.
 */
public record OAuthServices(
        Settings settings,
        Clock clock,
        ClientStore clients,
        RefreshTokens refreshTokens,
        AccessTokens accessTokens,
        ClientRegistry registry,
        ClientAuthentication clientAuthentication,
        Events events,
        GrantLifecycle lifecycle) {

    public OAuthServices {
        events = events == null ? Events.NONE : events;
    }

    /** Without an event sink (tests of single components). */
    public OAuthServices(Settings settings, Clock clock, ClientStore clients, RefreshTokens refreshTokens, AccessTokens accessTokens,
                         ClientRegistry registry, ClientAuthentication clientAuthentication) {
        this(settings, clock, clients, refreshTokens, accessTokens, registry, clientAuthentication, Events.NONE, null);
    }
}
