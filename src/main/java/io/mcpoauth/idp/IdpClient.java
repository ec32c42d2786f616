package io.mcpoauth.idp;

import com.github.scribejava.core.builder.ServiceBuilder;
import com.github.scribejava.core.httpclient.jdk.JDKHttpClientConfig;
import com.github.scribejava.core.model.OAuth2AccessTokenErrorResponse;
import com.github.scribejava.core.oauth.AccessTokenRequestParams;
import com.github.scribejava.core.oauth.AuthorizationUrlBuilder;
import com.github.scribejava.core.oauth.OAuth20Service;
import com.github.scribejava.core.oauth2.OAuth2Error;
import com.github.scribejava.core.pkce.PKCE;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The upstream code flow through ScribeJava: the authorization URL, the code exchange and the refresh, each bounded
 * by UPSTREAM_TIMEOUT. Failures are classified precisely: only the provider's own {@code invalid_grant} (an HTTP 4xx
 * answer naming it) is {@link Kind#INVALID_GRANT}; a timeout, a 5xx or an unreadable answer is
 * {@link Kind#UNAVAILABLE}; any other OAuth error is {@link Kind#REFUSED}. No message carries a response body.
 */
public final class IdpClient {
    public final IdpProvider provider;
    final IdpConfig config;
    final IdpCalls calls;
    private final OAuth20Service service;

    public IdpClient(IdpConfig config, IdpProvider provider, IdpCalls calls) {
        this.config = config;
        this.provider = provider;
        this.calls = calls;
        int ms = (int) Math.min(Integer.MAX_VALUE, config.timeout.toMillis());
        ServiceBuilder b = new ServiceBuilder(config.clientId)
                .callback(config.callbackUrl)
                .userAgent("mcp-oauth-server")
                .httpClientConfig(JDKHttpClientConfig.defaultConfig().withConnectTimeout(ms).withReadTimeout(ms).withFollowRedirects(false));
        if (!config.clientSecret.isEmpty()) b.apiSecret(config.clientSecret);
        this.service = b.defaultScope(provider.scopeString()).build(provider.api());
    }

    public enum Kind { INVALID_GRANT, REFUSED, UNAVAILABLE }

    /** A failed token request; {@code code} is the provider's error code when it sent one. */
    public static final class Error extends RuntimeException {
        public final Kind kind;
        public final String code;

        Error(Kind kind, String code, String message) {
            super(message, null, false, false);
            this.kind = kind;
            this.code = code;
        }
    }

    /** The URL that sends the browser to the provider; no {@code resource} parameter is ever forwarded. */
    String authorizationUrl(String state, PKCE pkce, String nonce) {
        Map<String, String> extra = new LinkedHashMap<>(provider.authorizeParams());
        if (nonce != null) extra.put("nonce", nonce);
        AuthorizationUrlBuilder b = service.createAuthorizationUrlBuilder().state(state).additionalParams(extra);
        if (pkce != null) b.pkce(pkce);
        return b.build();
    }

    /** Exchanges an authorization code (with the PKCE verifier when one was sent). */
    TokenSet exchange(String code, String verifier) {
        AccessTokenRequestParams p = AccessTokenRequestParams.create(code);
        if (verifier != null) p.pkceCodeVerifier(verifier);
        return call("token exchange", () -> TokenSet.of(service.getAccessToken(p)));
    }

    /** Refreshes with a stored refresh token. */
    TokenSet refresh(String refreshToken) {
        return call("token refresh", () -> TokenSet.of(service.refreshAccessToken(refreshToken)));
    }

    private TokenSet call(String what, java.util.concurrent.Callable<TokenSet> c) {
        TokenSet t;
        try {
            t = calls.bounded(what, () -> {
                try {
                    return c.call();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof Exception x ? x : e;
                }
            });
        } catch (OAuth2AccessTokenErrorResponse e) {
            throw classify(what, e);
        } catch (IdpCalls.Failed e) {
            throw new Error(Kind.UNAVAILABLE, null, provider.displayName() + " " + e.getMessage());
        } catch (RuntimeException e) {
            // OAuthException (unreadable answer) and the like: never treated as invalid_grant
            throw new Error(Kind.UNAVAILABLE, null, provider.displayName() + " " + what + ": unusable answer (" + e.getClass().getSimpleName() + ")");
        }
        if (t == null || t.accessToken() == null || t.accessToken().isEmpty()) {
            throw new Error(Kind.UNAVAILABLE, null, provider.displayName() + " " + what + ": no access token in the answer");
        }
        return t;
    }

    private Error classify(String what, OAuth2AccessTokenErrorResponse e) {
        int status = e.getResponse() == null ? 0 : e.getResponse().getCode();
        OAuth2Error err = e.getError();
        String code = err == null ? null : err.getErrorString();
        if (status >= 500 || status == 0 && err == null) {
            return new Error(Kind.UNAVAILABLE, code, provider.displayName() + " " + what + ": HTTP " + status);
        }
        if (err == OAuth2Error.INVALID_GRANT && status >= 400 && status < 500 || err == OAuth2Error.INVALID_GRANT && status == 200) {
            return new Error(Kind.INVALID_GRANT, code, provider.displayName() + " " + what + ": invalid_grant");
        }
        if (err == OAuth2Error.TEMPORARILY_UNAVAILABLE || err == OAuth2Error.SERVER_ERROR || err == null && status == 429) {
            return new Error(Kind.UNAVAILABLE, code, provider.displayName() + " " + what + ": " + (code == null ? "HTTP " + status : code));
        }
        return new Error(Kind.REFUSED, code, provider.displayName() + " " + what + ": " + (code == null ? "HTTP " + status : code));
    }
}
