package io.mcpoauth.oauth;

import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Events;
import io.mcpoauth.store.AccessTokens;
import io.mcpoauth.store.file.Clients;
import io.mcpoauth.store.file.RefreshTokens;
import java.time.Clock;

/**
 * The shared pieces of the authorization server, handed to each group of endpoints. {@code events} receives the
 * security events (audit log and metrics): e.g. {@code s.events().clientRegistered(id, name)}.
 */
public record OAuthServices(
        Settings settings,
        Clock clock,
        Clients clients,
        RefreshTokens refreshTokens,
        AccessTokens accessTokens,
        ClientRegistry registry,
        ClientAuthentication clientAuthentication,
        Events events) {

    public OAuthServices {
        events = events == null ? Events.NONE : events;
    }

    /** Without an event sink (tests of single components). */
    public OAuthServices(Settings settings, Clock clock, Clients clients, RefreshTokens refreshTokens, AccessTokens accessTokens,
                         ClientRegistry registry, ClientAuthentication clientAuthentication) {
        this(settings, clock, clients, refreshTokens, accessTokens, registry, clientAuthentication, Events.NONE);
    }
}
