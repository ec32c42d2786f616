package io.mcpoauth.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.core.builder.ServiceBuilder;
import com.github.scribejava.core.builder.api.DefaultApi20;
import com.github.scribejava.core.extractors.OAuth2AccessTokenJsonExtractor;
import com.github.scribejava.core.extractors.TokenExtractor;
import com.github.scribejava.core.httpclient.HttpClient;
import com.github.scribejava.core.httpclient.HttpClientConfig;
import com.github.scribejava.core.httpclient.jdk.JDKHttpClientConfig;
import com.github.scribejava.core.model.OAuth2AccessToken;
import com.github.scribejava.core.model.OAuth2AccessTokenErrorResponse;
import com.github.scribejava.core.model.OAuthRequest;
import com.github.scribejava.core.model.Response;
import com.github.scribejava.core.oauth.AccessTokenRequestParams;
import com.github.scribejava.core.oauth.OAuth20Service;
import com.github.scribejava.core.oauth2.OAuth2Error;
import com.github.scribejava.core.oauth2.clientauthentication.ClientAuthentication;
import com.github.scribejava.core.oauth2.clientauthentication.HttpBasicAuthenticationScheme;
import com.github.scribejava.core.oauth2.clientauthentication.RequestBodyAuthenticationScheme;
import com.github.scribejava.core.pkce.PKCE;
import com.github.scribejava.core.revoke.TokenTypeHint;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.ExecutionException;

/**
 * One connection provider's OAuth calls through ScribeJava: the authorization URL (always PKCE S256), the code
 * exchange, the refresh and the revocation (RFC 7009), each bounded by connect and read timeouts. A failed token call
 * says precisely what is known: the provider's own {@code invalid_grant} ({@link Kind#INVALID_GRANT}), another answer
 * from the provider ({@link Kind#REFUSED}: the refresh token was not used), no connection made
 * ({@link Kind#NOT_SENT}), or the request may have reached the provider without an answer reaching us
 * ({@link Kind#LOST}: a single-use refresh token may be spent). No message carries a response body.
 */
final class ConnectionClient {
    enum Kind { INVALID_GRANT, REFUSED, NOT_SENT, LOST }

    /** A failed call; {@code code} is the provider's error code when it sent one. */
    static final class Failure extends RuntimeException {
        final Kind kind;
        final String code;

        Failure(Kind kind, String code, String message) {
            super(message, null, false, false);
            this.kind = kind;
            this.code = code;
        }
    }

    /** Tokens from the token endpoint; never printed. */
    record Tokens(String accessToken, String refreshToken, Integer expiresIn, String scope, String idToken) {
        @Override
        public String toString() {
            return "Tokens[redacted, expiresIn=" + expiresIn + "]";
        }
    }

    final ConnectionProvider provider;
    private final OAuth20Service service;
    private final Duration timeout;

    ConnectionClient(ConnectionProvider provider, String callbackUrl, Duration timeout) {
        this.provider = provider;
        this.timeout = timeout;
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        ServiceBuilder b = new ServiceBuilder(provider.clientId()).callback(callbackUrl).userAgent("mcp-oauth-server")
                .httpClientConfig(JDKHttpClientConfig.defaultConfig().withConnectTimeout(ms).withReadTimeout(ms).withFollowRedirects(false));
        if (provider.clientSecret() != null && !"none".equals(provider.tokenAuth())) b.apiSecret(provider.clientSecret());
        if (!provider.scopes().isEmpty()) b.defaultScope(provider.scopeString());
        this.service = b.build(new Api(provider));
    }

    String authorizationUrl(String state, PKCE pkce) {
        return service.createAuthorizationUrlBuilder().state(state).pkce(pkce).additionalParams(provider.authorizeParams()).build();
    }

    Tokens exchange(String code, String verifier) {
        AccessTokenRequestParams params = AccessTokenRequestParams.create(code).pkceCodeVerifier(verifier);
        String resource = provider.authorizeParams().get("resource");
        if (resource != null) params.addExtraParameter("resource", resource); // RFC 8707: the same resource as in the authorization request
        return call("code exchange", () -> service.getAccessToken(params));
    }

    Tokens refresh(String refreshToken) {
        return call("token refresh", () -> service.refreshAccessToken(refreshToken));
    }

    /** Revokes {@code token} at the provider's revocation endpoint; false when it has none or the call failed. */
    boolean revoke(String token, boolean refresh) {
        if (provider.revocationEndpoint() == null || token == null) return false;
        if (ConnectionProvider.GITHUB.equals(provider.revocationStyle())) return refresh ? false : revokeGrantAtGithub(token);
        try {
            service.revokeToken(token, refresh ? TokenTypeHint.REFRESH_TOKEN : TokenTypeHint.ACCESS_TOKEN);
            return true;
        } catch (IOException | ExecutionException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * GitHub's revocation ({@link ConnectionProvider#GITHUB}): {@code DELETE} of the app's grant with the access token,
     * which ends every token of this authorization (its refresh token too); 204 is success.
     */
    private boolean revokeGrantAtGithub(String accessToken) {
        if (provider.clientSecret() == null) return false;
        String basic = java.util.Base64.getEncoder().encodeToString((provider.clientId() + ":" + provider.clientSecret()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String body = Json.MAPPER.createObjectNode().put("access_token", accessToken).toString();
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(provider.revocationEndpoint())).timeout(timeout)
                .header("Authorization", "Basic " + basic).header("Accept", "application/vnd.github+json").header("Content-Type", "application/json")
                .header("X-GitHub-Api-Version", "2022-11-28").header("User-Agent", "mcp-oauth-server")
                .method("DELETE", java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            java.net.http.HttpResponse<Void> r = java.net.http.HttpClient.newBuilder().connectTimeout(timeout)
                    .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build().send(request, java.net.http.HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 204;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Whether the provider still accepts {@code refreshToken} (RFC 7662 introspection, which does not use it up): true
     * or false from the provider's {@code active}; null when it has no introspection endpoint or gave no clear answer.
     */
    Boolean stillActive(String refreshToken, Duration timeout) {
        if (provider.introspectionEndpoint() == null) return null;
        String form = "token=" + java.net.URLEncoder.encode(refreshToken, java.nio.charset.StandardCharsets.UTF_8) + "&token_type_hint=refresh_token";
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(provider.introspectionEndpoint())).timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json").header("User-Agent", "mcp-oauth-server");
        String id = java.net.URLEncoder.encode(provider.clientId(), java.nio.charset.StandardCharsets.UTF_8);
        if ("client_secret_basic".equals(provider.tokenAuth())) {
            String secret = java.net.URLEncoder.encode(provider.clientSecret(), java.nio.charset.StandardCharsets.UTF_8);
            b.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } else {
            form += "&client_id=" + id;
            if ("client_secret_post".equals(provider.tokenAuth())) {
                form += "&client_secret=" + java.net.URLEncoder.encode(provider.clientSecret(), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        try {
            java.net.http.HttpResponse<byte[]> r = java.net.http.HttpClient.newBuilder().connectTimeout(timeout)
                    .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build()
                    .send(b.POST(java.net.http.HttpRequest.BodyPublishers.ofString(form)).build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200 || r.body().length > 64 * 1024) return null;
            JsonNode n = Json.MAPPER.readTree(r.body());
            return n != null && n.path("active").isBoolean() ? n.get("active").asBoolean() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private interface Call {
        OAuth2AccessToken run() throws IOException, InterruptedException, ExecutionException;
    }

    private Tokens call(String what, Call c) {
        OAuth2AccessToken t;
        try {
            t = c.run();
        } catch (OAuth2AccessTokenErrorResponse e) {
            throw classify(what, e);
        } catch (ExecutionException e) {
            throw io(what, e.getCause());
        } catch (IOException e) {
            throw io(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Kind.LOST, null, provider.displayName() + " " + what + ": interrupted");
        } catch (RuntimeException e) {
            // an unreadable answer: the provider answered, but what it did with the request is not known
            throw new Failure(Kind.LOST, null, provider.displayName() + " " + what + ": unusable answer (" + e.getClass().getSimpleName() + ")");
        }
        if (t == null || t.getAccessToken() == null || t.getAccessToken().isEmpty()) {
            throw new Failure(Kind.LOST, null, provider.displayName() + " " + what + ": no access token in the answer");
        }
        String idToken = null;
        String raw = t.getRawResponse();
        if (raw != null && raw.strip().startsWith("{")) {
            try {
                JsonNode n = Json.MAPPER.readTree(raw);
                if (n.path("id_token").isTextual()) idToken = n.get("id_token").asText();
            } catch (IOException ignored) {
                // no id_token
            }
        }
        return new Tokens(t.getAccessToken(), blank(t.getRefreshToken()), t.getExpiresIn(), blank(t.getScope()), idToken);
    }

    private Failure io(String what, Throwable e) {
        if (e instanceof OAuth2AccessTokenErrorResponse r) return classify(what, r);
        if (e instanceof java.net.ConnectException || e instanceof java.net.UnknownHostException || e instanceof java.net.NoRouteToHostException) {
            return new Failure(Kind.NOT_SENT, null, provider.displayName() + " " + what + ": " + (e instanceof java.net.UnknownHostException
                    ? "unknown host" : "cannot connect"));
        }
        String why = e instanceof java.net.SocketTimeoutException ? "no answer in time" : e == null ? "failed" : e.getClass().getSimpleName();
        return new Failure(Kind.LOST, null, provider.displayName() + " " + what + ": " + why);
    }

    private Failure classify(String what, OAuth2AccessTokenErrorResponse e) {
        int status = e.getResponse() == null ? 0 : e.getResponse().getCode();
        OAuth2Error err = e.getError();
        String code = err == null ? null : err.getErrorString();
        if (err == OAuth2Error.INVALID_GRANT && (status == 200 || status >= 400 && status < 500)) {
            return new Failure(Kind.INVALID_GRANT, code, provider.displayName() + " " + what + ": invalid_grant");
        }
        return new Failure(Kind.REFUSED, code, provider.displayName() + " " + what + ": " + (code == null ? "HTTP " + status : code));
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** The provider's endpoints for ScribeJava; token answers are asked as JSON, and an error in a 200 answer (GitHub) is an error. */
    private static final class Api extends DefaultApi20 {
        private final ConnectionProvider p;

        Api(ConnectionProvider p) {
            this.p = p;
        }

        @Override
        public String getAccessTokenEndpoint() {
            return p.tokenEndpoint();
        }

        @Override
        protected String getAuthorizationBaseUrl() {
            return p.authorizationEndpoint();
        }

        @Override
        public String getRevokeTokenEndpoint() {
            return p.revocationEndpoint();
        }

        @Override
        public ClientAuthentication getClientAuthentication() {
            return "client_secret_basic".equals(p.tokenAuth()) ? HttpBasicAuthenticationScheme.instance() : RequestBodyAuthenticationScheme.instance();
        }

        @Override
        public TokenExtractor<OAuth2AccessToken> getAccessTokenExtractor() {
            return Extractor.INSTANCE;
        }

        @Override
        public OAuth20Service createService(String apiKey, String apiSecret, String callback, String defaultScope, String responseType,
                                            OutputStream debugStream, String userAgent, HttpClientConfig httpClientConfig, HttpClient httpClient) {
            return new OAuth20Service(this, apiKey, apiSecret, callback, defaultScope, responseType, debugStream, userAgent, httpClientConfig, httpClient) {
                @Override
                protected OAuthRequest createAccessTokenRequest(AccessTokenRequestParams params) {
                    OAuthRequest r = super.createAccessTokenRequest(params);
                    r.addHeader("Accept", "application/json");
                    return r;
                }

                @Override
                protected OAuthRequest createRefreshTokenRequest(String refreshToken, String scope) {
                    OAuthRequest r = super.createRefreshTokenRequest(refreshToken, scope);
                    r.addHeader("Accept", "application/json");
                    String resource = p.authorizeParams().get("resource");
                    if (resource != null) r.addBodyParameter("resource", resource); // RFC 8707, MCP: in every token request
                    return r;
                }
            };
        }
    }

    private static final class Extractor extends OAuth2AccessTokenJsonExtractor {
        static final Extractor INSTANCE = new Extractor();

        @Override
        public OAuth2AccessToken extract(Response response) throws IOException {
            if (response.getCode() == 200) {
                String body = response.getBody();
                if (body != null && body.strip().startsWith("{") && Json.MAPPER.readTree(body).hasNonNull("error")) generateError(response);
            }
            return super.extract(response);
        }
    }
}
