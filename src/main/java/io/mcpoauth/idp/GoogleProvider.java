package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.apis.GoogleApi20;
import com.github.scribejava.core.builder.api.DefaultApi20;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Google: ScribeJava's {@link GoogleApi20}, OpenID Connect userinfo, offline access (a refresh token at every
 * sign-in: {@code access_type=offline&prompt=consent}). An e-mail counts only when Google says {@code email_verified}.
 */
final class GoogleProvider extends IdpProvider {
    static final String ISSUER = "https://accounts.google.com";
    private final Api api;

    GoogleProvider(IdpConfig config) {
        super(config);
        this.api = new Api(config.testBaseUrl);
    }

    /** GoogleApi20, its endpoints moved to a fake provider in tests. */
    static final class Api extends GoogleApi20 {
        private final String base;

        Api(String base) {
            this.base = base;
        }

        @Override
        public String getAccessTokenEndpoint() {
            return base == null ? super.getAccessTokenEndpoint() : base + "/token";
        }

        @Override
        protected String getAuthorizationBaseUrl() {
            return base == null ? super.getAuthorizationBaseUrl() : base + "/o/oauth2/v2/auth";
        }

        @Override
        public String getRevokeTokenEndpoint() {
            return base == null ? super.getRevokeTokenEndpoint() : base + "/revoke";
        }
    }

    @Override
    public String id() {
        return "google";
    }

    @Override
    public String displayName() {
        return "Google";
    }

    @Override
    public DefaultApi20 api() {
        return api;
    }

    @Override
    protected List<String> signInScopes() {
        return List.of("openid", "email", "profile");
    }

    @Override
    public Map<String, String> authorizeParams() {
        return Map.of("access_type", "offline", "prompt", "consent");
    }

    @Override
    public String expectedIssuer() {
        return config.testBaseUrl == null ? ISSUER : config.testBaseUrl;
    }

    @Override
    public URI userinfoUrl() {
        return URI.create(endpoint("https://openidconnect.googleapis.com/v1/userinfo", "/v1/userinfo"));
    }

    @Override
    public Identity identify(TokenSet tokens, JsonNode idClaims, IdpCalls calls, Instant now) {
        JsonNode u = userinfo(tokens, calls);
        String sub = requireSubject(u, "sub");
        String email = IdTokenClaims.text(u, "email");
        boolean verified = email != null && IdTokenClaims.isTrue(u, "email_verified");
        String name = IdTokenClaims.text(u, "name");
        return new Identity(sub, email != null ? email : name != null ? name : sub, email, verified, name);
    }
}
