package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.core.builder.api.DefaultApi20;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One provider's specifics: its ScribeJava API (endpoints, token response format, client authentication), the
 * scopes sign-in needs, whether it takes PKCE and a nonce, its userinfo endpoint and how the answer maps to an
 * {@link Identity}. One small subclass per provider.
 */
public abstract class IdpProvider {
    protected final IdpConfig config;

    protected IdpProvider(IdpConfig config) {
        this.config = config;
    }

    /** {@code google}, {@code azure}, {@code github} or {@code oidc}: the prefix of user ids. */
    public abstract String id();

    /** As users know it: "Google", "Microsoft", "GitHub", or the OpenID provider's host. */
    public abstract String displayName();

    /** The ScribeJava API with this provider's endpoints. */
    public abstract DefaultApi20 api();

    /** The scopes sign-in itself needs (UPSTREAM_SCOPES come on top). */
    protected abstract List<String> signInScopes();

    /** Whether the provider takes PKCE (S256). */
    public boolean pkce() {
        return true;
    }

    /** Whether this is an OpenID Connect provider: a nonce is sent and an id_token may come back. */
    public boolean openId() {
        return true;
    }

    /** Extra authorization request parameters (e.g. Google's access_type=offline). */
    public Map<String, String> authorizeParams() {
        return Map.of();
    }

    /** The issuer an id_token must name, or null when it varies (Microsoft's per-tenant issuers). */
    public String expectedIssuer() {
        return null;
    }

    /** The userinfo endpoint (the user's profile, read with the user's own access token); null when there is none. */
    public abstract URI userinfoUrl();

    /** The Accept header for the userinfo endpoint. */
    public String userinfoAccept() {
        return "application/json";
    }

    /**
     * Who signed in, from the userinfo endpoint (or, without one, the id_token claims). Throws
     * {@link Identity.Refused} with a message for the error page when there is no subject or the answer is unusable,
     * and {@link IdpCalls.Failed} when the provider cannot be reached.
     */
    public abstract Identity identify(TokenSet tokens, JsonNode idClaims, IdpCalls calls, Instant now);

    /** Every scope asked for: sign-in scopes, then UPSTREAM_SCOPES. */
    public final String scopeString() {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(signInScopes());
        all.addAll(config.extraScopes);
        return String.join(" ", all);
    }

    /** {@code base + path} under UPSTREAM_TEST_BASE_URL, else {@code real}. */
    protected final String endpoint(String real, String testPath) {
        return config.testBaseUrl == null ? real : config.testBaseUrl + testPath;
    }

    /** The userinfo answer with its subject checked: a missing or empty {@code field} refuses the sign-in. */
    protected final JsonNode userinfo(TokenSet tokens, IdpCalls calls) {
        JsonNode n = calls.getJson("userinfo", userinfoUrl(), tokens.accessToken(), userinfoAccept());
        if (!n.isObject()) throw new Identity.Refused("The provider's userinfo answer is not a JSON object.");
        return n;
    }

    protected final String requireSubject(JsonNode n, String field) {
        String sub = IdTokenClaims.text(n, field);
        if (sub == null || sub.length() > 255) {
            throw new Identity.Refused(displayName() + " did not say who signed in (no '" + field + "' in its user information). No account was created.");
        }
        return sub;
    }
}
