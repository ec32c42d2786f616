package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
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

    public void routes(JavalinConfig config) {
        config.routes.post("/token", this::post);
        config.routes.get("/token", ctx -> ClientEndpoints.methodNotAllowed(ctx, "POST", "Use POST with a form body at the token endpoint."));
    }

    private void post(Context ctx) {
        try {
            Map<String, Object> body = handle(ctx.header("Authorization"), Web.form(ctx));
            Web.noStore(ctx);
            Web.json(ctx, 200, body);
        } catch (ClientAuthentication.Failure f) {
            ClientEndpoints.clientFailure(ctx, f);
        }
    }
}
