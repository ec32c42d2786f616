package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.apis.MicrosoftAzureActiveDirectory20Api;
import com.github.scribejava.core.builder.api.DefaultApi20;
import java.net.URI;
import java.time.Instant;
import java.util.List;

/**
 * Microsoft Entra ID (Azure AD) v2.0: ScribeJava's {@link MicrosoftAzureActiveDirectory20Api} for {@code AZURE_TENANT},
 * the Microsoft Graph OpenID userinfo endpoint. Entra's {@code email} claim is not verified by default, so it counts
 * as verified only with {@code email_verified} or the optional {@code xms_edov} claim.
 */
final class AzureProvider extends IdpProvider {
    private final Api api;

    AzureProvider(IdpConfig config) {
        super(config);
        this.api = new Api(config.azureTenant, config.testBaseUrl);
    }

    /** MicrosoftAzureActiveDirectory20Api with a tenant, its endpoints moved to a fake provider in tests. */
    static final class Api extends MicrosoftAzureActiveDirectory20Api {
        private final String tenant;
        private final String base;

        Api(String tenant, String base) {
            super(tenant);
            this.tenant = tenant;
            this.base = base;
        }

        @Override
        public String getAccessTokenEndpoint() {
            return base == null ? super.getAccessTokenEndpoint() : base + "/" + tenant + "/oauth2/v2.0/token";
        }

        @Override
        protected String getAuthorizationBaseUrl() {
            return base == null ? super.getAuthorizationBaseUrl() : base + "/" + tenant + "/oauth2/v2.0/authorize";
        }
    }

    @Override
    public String id() {
        return "azure";
    }

    @Override
    public String displayName() {
        return "Microsoft";
    }

    @Override
    public DefaultApi20 api() {
        return api;
    }

    @Override
    protected List<String> signInScopes() {
        return List.of("openid", "profile", "email", "offline_access", "User.Read");
    }

    @Override
    public URI userinfoUrl() {
        return URI.create(endpoint("https://graph.microsoft.com/oidc/userinfo", "/oidc/userinfo"));
    }

    @Override
    public Identity identify(TokenSet tokens, JsonNode idClaims, IdpCalls calls, Instant now) {
        JsonNode u = userinfo(tokens, calls);
        String sub = requireSubject(u, "sub");
        String email = IdTokenClaims.text(u, "email");
        if (email == null && idClaims != null) email = IdTokenClaims.text(idClaims, "email");
        boolean verified = email != null && (IdTokenClaims.isTrue(u, "email_verified")
                || idClaims != null && (IdTokenClaims.isTrue(idClaims, "email_verified") || IdTokenClaims.isTrue(idClaims, "xms_edov")));
        String name = IdTokenClaims.text(u, "name");
        String username = email != null ? email : idClaims != null && IdTokenClaims.text(idClaims, "preferred_username") != null
                ? IdTokenClaims.text(idClaims, "preferred_username") : name != null ? name : sub;
        return new Identity(sub, username, email, verified, name);
    }
}
