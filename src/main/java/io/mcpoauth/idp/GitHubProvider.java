package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.apis.GitHubApi;
import com.github.scribejava.core.builder.api.DefaultApi20;
import com.github.scribejava.core.exceptions.OAuthException;
import com.github.scribejava.core.extractors.TokenExtractor;
import com.github.scribejava.core.model.OAuth2AccessToken;
import com.github.scribejava.core.model.OAuth2AccessTokenErrorResponse;
import com.github.scribejava.core.model.Response;
import com.github.scribejava.core.oauth2.OAuth2Error;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GitHub: ScribeJava's {@link GitHubApi}; the subject is the numeric account id (logins can be renamed); the e-mail
 * is the primary address from {@code /user/emails} and counts only when GitHub marks it verified. GitHub answers
 * token errors with HTTP 200 and its own codes: {@code bad_verification_code} and {@code bad_refresh_token} are its
 * {@code invalid_grant}.
 */
final class GitHubProvider extends IdpProvider {
    private final Api api;

    GitHubProvider(IdpConfig config) {
        super(config);
        this.api = new Api(config.testBaseUrl);
    }

    /** GitHubApi with a token reader that understands GitHub's errors, its endpoints moved to a fake provider in tests. */
    static final class Api extends GitHubApi {
        private final String base;

        Api(String base) {
            this.base = base;
        }

        @Override
        public String getAccessTokenEndpoint() {
            return base == null ? super.getAccessTokenEndpoint() : base + "/login/oauth/access_token";
        }

        @Override
        protected String getAuthorizationBaseUrl() {
            return base == null ? super.getAuthorizationBaseUrl() : base + "/login/oauth/authorize";
        }

        @Override
        public TokenExtractor<OAuth2AccessToken> getAccessTokenExtractor() {
            return GitHubProvider::extract;
        }
    }

    /** Reads GitHub's form-encoded (or JSON) token answer; errors become {@link OAuth2AccessTokenErrorResponse}. */
    static OAuth2AccessToken extract(Response r) throws IOException {
        String body = r.getBody();
        if (body == null) body = "";
        if (r.getCode() >= 500) throw new IOException("HTTP " + r.getCode());
        Map<String, String> m = parse(body);
        if (m.containsKey("error") || r.getCode() != 200) {
            String code = m.getOrDefault("error", "");
            OAuth2Error e = switch (code) {
                case "bad_verification_code", "bad_refresh_token", "invalid_grant" -> OAuth2Error.INVALID_GRANT;
                case "incorrect_client_credentials", "invalid_client" -> OAuth2Error.INVALID_CLIENT;
                case "redirect_uri_mismatch", "invalid_request" -> OAuth2Error.INVALID_REQUEST;
                case "unsupported_grant_type" -> OAuth2Error.UNSUPPORTED_GRANT_TYPE;
                default -> null;
            };
            throw new OAuth2AccessTokenErrorResponse(e, m.get("error_description"), null, r);
        }
        String access = m.get("access_token");
        if (access == null || access.isEmpty()) throw new OAuthException("GitHub's token answer has no access_token");
        Integer expiresIn = null;
        try {
            if (m.get("expires_in") != null) expiresIn = Integer.valueOf(m.get("expires_in"));
        } catch (NumberFormatException ignored) {
            // no expiry
        }
        return new OAuth2AccessToken(access, m.get("token_type"), expiresIn, m.get("refresh_token"), m.get("scope"), body);
    }

    private static Map<String, String> parse(String body) {
        Map<String, String> m = new HashMap<>();
        String b = body.strip();
        if (b.startsWith("{")) {
            try {
                JsonNode n = Json.MAPPER.readTree(b);
                n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
            } catch (IOException ignored) {
                // unreadable: no fields
            }
            return m;
        }
        for (String kv : b.split("&")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) continue;
            m.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    @Override
    public String id() {
        return "github";
    }

    @Override
    public String displayName() {
        return "GitHub";
    }

    @Override
    public DefaultApi20 api() {
        return api;
    }

    @Override
    protected List<String> signInScopes() {
        return List.of("read:user", "user:email");
    }

    @Override
    public boolean openId() {
        return false;
    }

    @Override
    public URI userinfoUrl() {
        return URI.create(endpoint("https://api.github.com/user", "/user"));
    }

    URI emailsUrl() {
        return URI.create(endpoint("https://api.github.com/user/emails", "/user/emails"));
    }

    @Override
    public String userinfoAccept() {
        return "application/vnd.github+json";
    }

    @Override
    public Identity identify(TokenSet tokens, JsonNode idClaims, IdpCalls calls, Instant now) {
        JsonNode u = userinfo(tokens, calls);
        String id = requireSubject(u, "id");
        String login = IdTokenClaims.text(u, "login");
        String name = IdTokenClaims.text(u, "name");
        String email = null;
        boolean verified = false;
        try {
            JsonNode emails = calls.getJson("emails", emailsUrl(), tokens.accessToken(), userinfoAccept());
            for (JsonNode e : emails) {
                if (e.path("primary").asBoolean(false) && IdTokenClaims.text(e, "email") != null) {
                    email = e.get("email").asText();
                    verified = e.path("verified").asBoolean(false);
                }
            }
        } catch (IdpCalls.Failed f) {
            // no user:email scope or no answer: fall back to the public (unverified) e-mail
        }
        if (email == null) email = IdTokenClaims.text(u, "email");
        return new Identity(id, login != null ? login : id, email, verified, name);
    }
}
