package io.mcpoauth.connect;

import java.util.List;
import java.util.Map;

/**
 * One configured connection: an OAuth 2 service (endpoints given, discovered from an issuer, or a preset) or a static
 * secret the user pastes on the account page. Secrets ({@code clientSecret}) never appear in {@link #toString()}.
 *
 * @param name                  the connection's name ({@code [a-z0-9-]{1,32}})
 * @param type                  {@link #OAUTH} or {@link #SECRET}
 * @param displayName           as users know it (e.g. "GitHub")
 * @param issuer                the provider's issuer when known (discovered, preset, or configured): checked against {@code iss}
 * @param issParameter          whether the provider always sends {@code iss} on the callback (RFC 9207): then it is required
 * @param rotatingRefreshTokens whether a refresh token works only once (then a refresh interrupted by a crash is never retried)
 * @param accountClaim          the claim of the id_token or userinfo answer that names the account (e-mail, login)
 * @param description           for a secret: what to paste (shown on the account page)
 * @param introspectionEndpoint the provider's token introspection (RFC 7662), when known: after an interrupted refresh
 *                              it tells whether the refresh token was spent
 */
public record ConnectionProvider(String name, String type, String displayName, String authorizationEndpoint, String tokenEndpoint,
                                 String revocationEndpoint, String userinfoEndpoint, String issuer, boolean issParameter, String clientId,
                                 String clientSecret, List<String> scopes, Map<String, String> authorizeParams, String tokenAuth,
                                 boolean rotatingRefreshTokens, String accountClaim, String description, String introspectionEndpoint,
                                 String revocationStyle) {
    public static final String OAUTH = "oauth";
    public static final String SECRET = "secret";
    /** {@link #revocationStyle}: RFC 7009 (a form POST of the token), the default. */
    public static final String RFC7009 = "rfc7009";
    /**
     * {@link #revocationStyle}: GitHub's own API ({@code DELETE /applications/{client_id}/grant} with the app's Basic
     * credentials and {@code {"access_token": ...}}), which ends the whole authorization; {@code {client_id}} in the
     * endpoint is replaced by the client id.
     */
    public static final String GITHUB = "github";

    public ConnectionProvider {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        authorizeParams = authorizeParams == null ? Map.of() : Map.copyOf(authorizeParams);
    }

    public boolean oauth() {
        return OAUTH.equals(type);
    }

    public String scopeString() {
        return String.join(" ", scopes);
    }

    @Override
    public String toString() {
        return "ConnectionProvider[" + name + ", " + type + ", " + displayName + ", token " + tokenEndpoint + "]";
    }
}
