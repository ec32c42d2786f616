package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import io.mcpoauth.store.ClientRecord;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /token}: parses the form strictly, authenticates the client (separately from the grant), then hands
 * the request to the provider of its grant type.
 */
public final class TokenEndpoint {
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of("password", "implicit", "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:token-exchange");

    static final long DRAIN_LIMIT = 1024 * 1024;

    private final ClientAuthentication clientAuthentication;
    private final AuthorizationCodeGrant codeGrant;
    private final RefreshTokenGrant refreshGrant;

    public TokenEndpoint(OAuthServices services, AuthorizationCodes codes) {
        TokenIssuer issuer = new TokenIssuer(services);
        this.clientAuthentication = services.clientAuthentication();
        this.codeGrant = new AuthorizationCodeGrant(services, codes, issuer);
        this.refreshGrant = new RefreshTokenGrant(services, issuer);
    }

    /** The token response body for a form already parsed without duplicates. */
    public Map<String, Object> handle(String authorization, Params form) {
        String grantType = form.first("grant_type");
        if (grantType == null) throw OAuthError.invalidRequest("The grant_type parameter is missing.");
        if (!grantType.equals(ClientMetadata.AUTHORIZATION_CODE) && !grantType.equals(ClientMetadata.REFRESH_TOKEN)) {
            throw OAuthError.unsupportedGrantType((KNOWN_UNSUPPORTED.contains(grantType) ? "The " + grantType + " grant is not supported"
                    : "Unknown grant_type") + "; use authorization_code or refresh_token.");
        }
        ClientRecord client = clientAuthentication.authenticate(authorization, form);
        return grantType.equals(ClientMetadata.AUTHORIZATION_CODE) ? codeGrant.exchange(client, form) : refreshGrant.exchange(client, form);
    }

    /**
     * The form; a body over Javalin's maxRequestSize (declared or chunked) is a JSON 413 with no-store like every
     * other token response, instead of Javalin's plain-text one.
     */
    private static Params form(Context ctx) {
        try {
            return Web.form(ctx);
        } catch (HttpResponseException e) {
            if (e.getStatus() != 413) throw e;
            drain(ctx);
            throw new OAuthError(OAuthError.INVALID_REQUEST, "The request body is too large.", 413);
        }
    }

    /** Up to 1 MiB of an oversized body is read and dropped before the 413, so the client reads the answer, not a reset. */
    public static void drain(Context ctx) {
        if (ctx.req().getContentLengthLong() > DRAIN_LIMIT) return;
        try {
            java.io.InputStream in = ctx.req().getInputStream();
            byte[] buf = new byte[16 * 1024];
            long left = DRAIN_LIMIT;
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) left -= n;
        } catch (java.io.IOException | RuntimeException ignored) {
            // the client went away; nothing to answer
        }
    }

    public void routes(JavalinConfig config) {
        config.routes.post("/token", this::post);
        config.routes.get("/token", ctx -> {
            ctx.header("Allow", "POST");
            Web.oauthError(ctx, new OAuthError(OAuthError.INVALID_REQUEST, "Use POST with a form body at the token endpoint.", 405));
        });
    }

    private void post(Context ctx) {
        try {
            Map<String, Object> body = handle(ctx.header("Authorization"), form(ctx));
            Web.noStore(ctx);
            Web.json(ctx, 200, body);
        } catch (ClientAuthentication.Failure f) {
            if (f.basicChallenge()) ctx.header("WWW-Authenticate", "Basic realm=\"mcp-oauth-server\"");
            Web.oauthError(ctx, f.error());
        }
    }
}
