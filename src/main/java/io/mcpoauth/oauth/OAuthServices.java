package io.mcpoauth.oauth;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.AccessTokens;
import io.mcpoauth.store.Clients;
import io.mcpoauth.store.RefreshTokens;
import java.time.Clock;

/** The shared pieces of the authorization server, handed to each group of endpoints. */
public record OAuthServices(
        Settings settings,
        Clock clock,
        Clients clients,
        RefreshTokens refreshTokens,
        AccessTokens accessTokens,
        ClientRegistry registry,
        ClientAuthentication clientAuthentication) {
}
