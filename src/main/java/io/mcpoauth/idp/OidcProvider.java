package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.apis.openid.OpenIdJsonTokenExtractor;
import com.github.scribejava.core.builder.api.DefaultApi20;
import com.github.scribejava.core.extractors.TokenExtractor;
import com.github.scribejava.core.model.OAuth2AccessToken;
import com.github.scribejava.core.oauth2.clientauthentication.ClientAuthentication;
import com.github.scribejava.core.oauth2.clientauthentication.HttpBasicAuthenticationScheme;
import com.github.scribejava.core.oauth2.clientauthentication.RequestBodyAuthenticationScheme;
import io.mcpoauth.config.ConfigException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Any OpenID Connect provider, built from {@code <OIDC_ISSUER>/.well-known/openid-configuration}, read once at start
 * (bounded by UPSTREAM_TIMEOUT). The document's {@code issuer} must equal OIDC_ISSUER exactly. PKCE is used unless
 * the document lists challenge methods without S256; {@code offline_access} is asked when the provider lists it.
 * The subject comes from the userinfo endpoint, or from the id_token when the provider has no userinfo endpoint.
 */
final class OidcProvider extends IdpProvider {
    private final String issuer;
    private final URI userinfo;
    private final boolean pkce;
    private final boolean offlineAccess;
    private final boolean issParameter;
    private final Api api;

    private OidcProvider(IdpConfig config, JsonNode doc) {
        super(config);
        this.issuer = config.oidcIssuer;
        String authz = endpoint(doc, "authorization_endpoint", true);
        String token = endpoint(doc, "token_endpoint", true);
        String ui = endpoint(doc, "userinfo_endpoint", false);
        this.userinfo = ui == null ? null : URI.create(ui);
        this.pkce = !doc.path("code_challenge_methods_supported").isArray() || contains(doc.path("code_challenge_methods_supported"), "S256");
        this.offlineAccess = contains(doc.path("scopes_supported"), "offline_access");
        this.issParameter = doc.path("authorization_response_iss_parameter_supported").asBoolean(false);
        JsonNode methods = doc.path("token_endpoint_auth_methods_supported");
        boolean basic = !methods.isArray() || contains(methods, "client_secret_basic");
        boolean post = contains(methods, "client_secret_post");
        if (!config.clientSecret.isEmpty() && !basic && !post) {
            throw new ConfigException("OIDC_ISSUER=" + issuer + ": the provider supports neither client_secret_basic nor client_secret_post for its token endpoint");
        }
        ClientAuthentication auth = config.clientSecret.isEmpty() || !basic ? RequestBodyAuthenticationScheme.instance() : HttpBasicAuthenticationScheme.instance();
        this.api = new Api(authz, token, auth);
    }

    /** Reads and checks the discovery document; a clear {@link ConfigException} naming OIDC_ISSUER otherwise. */
    static OidcProvider discover(IdpConfig config, IdpCalls calls) {
        String issuer = config.oidcIssuer;
        URI url = URI.create(IdpConfig.stripSlash(issuer) + "/.well-known/openid-configuration");
        JsonNode doc;
        try {
            doc = calls.getJson("OpenID discovery", url, null, "application/json");
        } catch (IdpCalls.Failed f) {
            throw new ConfigException("OIDC_ISSUER=" + issuer + ": cannot read " + url + " (" + f.getMessage() + "); expected an OpenID Connect provider that serves its discovery document there");
        }
        if (!doc.isObject()) throw new ConfigException("OIDC_ISSUER=" + issuer + ": " + url + " is not a JSON object");
        String named = doc.path("issuer").asText("");
        if (!named.equals(issuer)) {
            throw new ConfigException("OIDC_ISSUER=" + issuer + ": the discovery document at " + url + " names the issuer '" + named
                    + "'; they must be equal (check for a trailing slash)");
        }
        return new OidcProvider(config, doc);
    }

    private String endpoint(JsonNode doc, String field, boolean required) {
        String v = doc.path(field).asText("");
        if (v.isEmpty()) {
            if (!required) return null;
            throw new ConfigException("OIDC_ISSUER=" + issuer + ": the discovery document has no " + field);
        }
        try {
            IdpConfig.checkUrl("OIDC_ISSUER", v, true);
        } catch (ConfigException e) {
            throw new ConfigException("OIDC_ISSUER=" + issuer + ": the discovery document's " + field + " " + v
                    + " is not an https URL (http is allowed only for localhost)");
        }
        return v;
    }

    private static boolean contains(JsonNode array, String value) {
        if (!array.isArray()) return false;
        for (JsonNode n : array) {
            if (value.equals(n.asText())) return true;
        }
        return false;
    }

    /** A ScribeJava API for endpoints found by discovery. */
    static final class Api extends DefaultApi20 {
        private final String authorize;
        private final String token;
        private final ClientAuthentication auth;

        Api(String authorize, String token, ClientAuthentication auth) {
            this.authorize = authorize;
            this.token = token;
            this.auth = auth;
        }

        @Override
        public String getAccessTokenEndpoint() {
            return token;
        }

        @Override
        protected String getAuthorizationBaseUrl() {
            return authorize;
        }

        @Override
        public TokenExtractor<OAuth2AccessToken> getAccessTokenExtractor() {
            return OpenIdJsonTokenExtractor.instance();
        }

        @Override
        public ClientAuthentication getClientAuthentication() {
            return auth;
        }
    }

    @Override
    public String id() {
        return "oidc";
    }

    @Override
    public String displayName() {
        String host = URI.create(issuer).getHost();
        return host == null ? issuer : host.toLowerCase(Locale.ROOT);
    }

    @Override
    public DefaultApi20 api() {
        return api;
    }

    @Override
    protected List<String> signInScopes() {
        List<String> s = new ArrayList<>(List.of("openid", "email", "profile"));
        if (offlineAccess) s.add("offline_access");
        return s;
    }

    @Override
    public boolean pkce() {
        return pkce;
    }

    @Override
    public String expectedIssuer() {
        return issuer;
    }

    /** RFC 9207: the provider promises an {@code iss} parameter on its authorization responses. */
    boolean sendsIssParameter() {
        return issParameter;
    }

    @Override
    public URI userinfoUrl() {
        return userinfo;
    }

    @Override
    public Identity identify(TokenSet tokens, JsonNode idClaims, IdpCalls calls, Instant now) {
        JsonNode src;
        if (userinfo != null) {
            src = userinfo(tokens, calls);
        } else if (idClaims != null) {
            src = idClaims;
        } else {
            throw new Identity.Refused(displayName() + " sent neither an id_token nor has a userinfo endpoint: nobody can be identified.");
        }
        String sub = requireSubject(src, "sub");
        String email = IdTokenClaims.text(src, "email");
        boolean verified = email != null && IdTokenClaims.isTrue(src, "email_verified");
        String name = IdTokenClaims.text(src, "name");
        String preferred = IdTokenClaims.text(src, "preferred_username");
        return new Identity(sub, email != null ? email : preferred != null ? preferred : name != null ? name : sub, email, verified, name);
    }
}
