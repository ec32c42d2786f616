package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /token}: parses the form strictly, authenticates the client (separately from the grant), hands the
 * request to the {@link GrantHandler} registered for its {@code grant_type}, and reports the tokens issued. The
 * registered grant types are what the metadata advertises ({@link #grantTypes}).
 */
public final class TokenEndpoint {
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of("password", "implicit", "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:token-exchange");

    private final OAuthServices s;
    private final Map<String, GrantHandler> grants;

    /** The grants of this server: authorization_code and refresh_token. */
    public TokenEndpoint(OAuthServices services, AuthorizationCodes codes) {
        this(services, standardGrants(services, codes));
    }

    /** @param grants one handler per grant type, in the order the metadata lists them */
    public TokenEndpoint(OAuthServices services, List<GrantHandler> grants) {
        this.s = services;
        Map<String, GrantHandler> byType = new LinkedHashMap<>();
        for (GrantHandler g : grants) {
            if (byType.putIfAbsent(g.grantType(), g) != null) throw new IllegalArgumentException("two handlers for " + g.grantType());
        }
        this.grants = Collections.unmodifiableMap(byType);
    }

    /** The handlers this server registers, each minting through one {@link TokenIssuer}. */
    public static List<GrantHandler> standardGrants(OAuthServices services, AuthorizationCodes codes) {
        TokenIssuer issuer = new TokenIssuer(services);
        return List.of(new AuthorizationCodeGrant(services, codes, issuer), new RefreshTokenGrant(services, issuer));
    }

    /** The supported grant types ({@code grant_types_supported}), in registration order. */
    public List<String> grantTypes() {
        return List.copyOf(grants.keySet());
    }

    /** The token response body for a form already parsed without duplicates. */
    public Map<String, Object> handle(String authorization, Params form) {
        String grantType = form.first("grant_type");
        if (grantType == null) throw OAuthError.invalidRequest("The grant_type parameter is missing.");
        GrantHandler grant = grants.get(grantType);
        if (grant == null) {
            throw OAuthError.unsupportedGrantType((KNOWN_UNSUPPORTED.contains(grantType) ? "The " + grantType + " grant is not supported"
                    : "Unknown grant_type") + "; use " + alternatives() + ".");
        }
        AuthenticatedClient client = new AuthenticatedClient(s.clientAuthentication().authenticate(authorization, form));
        TokenResponse r = grant.handle(new TokenRequest(form, s.clock().instant()), client);
        TokenIssuer.Grant g = r.grant();
        s.events().tokensIssued(grant.grantType(), g.userId(), g.clientId(), g.grantId(), r.scopes());
        return r.body();
    }

    /** "a", "a or b", "a, b or c". */
    private String alternatives() {
        List<String> types = grantTypes();
        if (types.size() <= 1) return String.join("", types);
        return String.join(", ", types.subList(0, types.size() - 1)) + " or " + types.get(types.size() - 1);
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
