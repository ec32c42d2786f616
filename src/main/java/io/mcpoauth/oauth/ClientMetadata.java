package io.mcpoauth.oauth;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.http.OAuthError;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A validated RFC 7591 registration request. Fields a client may not choose ({@code client_id},
 * {@code client_secret}, ...) and unknown fields are ignored. Every problem is an {@link OAuthError}:
 * {@code invalid_redirect_uri} for redirect URIs, {@code invalid_client_metadata} for everything else.
 */
public record ClientMetadata(
        String clientName,
        List<String> redirectUris,
        List<String> grantTypes,
        List<String> responseTypes,
        String tokenEndpointAuthMethod,
        String scope,
        String clientUri,
        String softwareId,
        String softwareVersion,
        String applicationType) {

    public static final String AUTHORIZATION_CODE = "authorization_code";
    public static final String REFRESH_TOKEN = "refresh_token";
    public static final String AUTH_NONE = "none";
    public static final String AUTH_POST = "client_secret_post";
    public static final String AUTH_BASIC = "client_secret_basic";
    public static final List<String> DEFAULT_GRANT_TYPES = List.of(AUTHORIZATION_CODE, REFRESH_TOKEN);
    public static final List<String> DEFAULT_RESPONSE_TYPES = List.of("code");
    public static final String DEFAULT_AUTH_METHOD = AUTH_BASIC;
    public static final Set<String> AUTH_METHODS = Set.of(AUTH_NONE, AUTH_POST, AUTH_BASIC);
    public static final int MAX_TEXT = 200;
    /**
     * {@code application_type} values (OpenID Connect Dynamic Client Registration 1.0), which MCP 2026-07-28 clients
     * must send. Stored and returned; as a non-OIDC server we put no extra constraint on redirect URIs for them.
     */
    public static final Set<String> APPLICATION_TYPES = Set.of("native", "web");

    public ClientMetadata {
        redirectUris = List.copyOf(redirectUris);
        grantTypes = List.copyOf(grantTypes);
        responseTypes = List.copyOf(responseTypes);
    }

    /** True unless the client authenticates with {@code none} (a public client). */
    public boolean isConfidential() {
        return !AUTH_NONE.equals(tokenEndpointAuthMethod);
    }

    /** Validates a registration request body against the rules above and the scopes this server supports. */
    public static ClientMetadata fromRequest(JsonNode body, Set<String> supportedScopes) {
        if (body == null || !body.isObject()) {
            throw OAuthError.invalidClientMetadata("The registration request must be a JSON object.");
        }
        List<String> redirectUris = RedirectUris.validateList(redirectUris(body.get("redirect_uris")));

        List<String> grantTypes = stringList(body, "grant_types", DEFAULT_GRANT_TYPES);
        for (String g : grantTypes) {
            if (!DEFAULT_GRANT_TYPES.contains(g)) {
                throw OAuthError.invalidClientMetadata("The grant type '" + shorten(g)
                        + "' is not supported: only authorization_code and refresh_token are.");
            }
        }
        if (!grantTypes.contains(AUTHORIZATION_CODE)) {
            throw OAuthError.invalidClientMetadata("grant_types must include authorization_code.");
        }

        List<String> responseTypes = stringList(body, "response_types", DEFAULT_RESPONSE_TYPES);
        if (!responseTypes.equals(DEFAULT_RESPONSE_TYPES)) {
            throw OAuthError.invalidClientMetadata("response_types must be [code]: only the authorization code flow is supported.");
        }

        String method = text(body, "token_endpoint_auth_method", 64);
        if (method == null) method = DEFAULT_AUTH_METHOD;
        if (!AUTH_METHODS.contains(method)) {
            throw OAuthError.invalidClientMetadata("The token_endpoint_auth_method '" + shorten(method)
                    + "' is not supported: use none, client_secret_post or client_secret_basic.");
        }

        String clientName = text(body, "client_name", MAX_TEXT);
        if (clientName != null) {
            clientName = clientName.strip();
            if (clientName.isEmpty()) clientName = null;
        }

        String scope = text(body, "scope", 1000);
        if (scope != null) {
            Set<String> scopes = Scopes.parse(scope);
            Scopes.requireSupported(scopes, supportedScopes, OAuthError.INVALID_CLIENT_METADATA);
            scope = scopes.isEmpty() ? null : Scopes.format(scopes);
        }

        String clientUri = text(body, "client_uri", RedirectUris.MAX_LENGTH);
        if (clientUri != null) {
            String problem = RedirectUris.problem(clientUri);
            if (problem != null || !(clientUri.startsWith("https://") || clientUri.startsWith("http://"))) {
                throw OAuthError.invalidClientMetadata("client_uri must be an https URL (or http on localhost) without user information or fragment.");
            }
        }

        String applicationType = text(body, "application_type", 32);
        if (applicationType != null && !APPLICATION_TYPES.contains(applicationType)) {
            throw OAuthError.invalidClientMetadata("application_type must be native or web.");
        }

        return new ClientMetadata(clientName, redirectUris, grantTypes, responseTypes, method, scope, clientUri,
                text(body, "software_id", MAX_TEXT), text(body, "software_version", MAX_TEXT), applicationType);
    }

    private static List<String> redirectUris(JsonNode node) {
        if (node == null || node.isNull()) {
            throw OAuthError.invalidRedirectUri("redirect_uris is required: register at least one redirect URI.");
        }
        if (!node.isArray()) throw OAuthError.invalidRedirectUri("redirect_uris must be an array of strings.");
        if (node.size() > RedirectUris.MAX_URIS) {
            throw OAuthError.invalidRedirectUri("At most " + RedirectUris.MAX_URIS + " redirect URIs may be registered, but "
                    + node.size() + " were sent.");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : node) {
            if (!e.isTextual()) throw OAuthError.invalidRedirectUri("redirect_uris must be an array of strings.");
            out.add(e.textValue());
        }
        return out;
    }

    /** A deduplicated list of strings, or {@code dflt} when the field is absent or null. */
    private static List<String> stringList(JsonNode body, String field, List<String> dflt) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) return dflt;
        if (!node.isArray() || node.size() > 20) {
            throw OAuthError.invalidClientMetadata(field + " must be an array of at most 20 strings.");
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode e : node) {
            if (!e.isTextual()) throw OAuthError.invalidClientMetadata(field + " must be an array of strings.");
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }

    /** An optional string field: null when absent or JSON null; refused when not a string, too long or unsafe. */
    private static String text(JsonNode body, String field, int max) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) return null;
        if (!node.isTextual()) throw OAuthError.invalidClientMetadata(field + " must be a string.");
        String v = node.textValue();
        if (v.codePointCount(0, v.length()) > max) {
            throw OAuthError.invalidClientMetadata(field + " must be at most " + max + " characters long.");
        }
        for (int i = 0; i < v.length(); i++) {
            if (isUnsafe(v.charAt(i))) {
                throw OAuthError.invalidClientMetadata(field
                        + " must not contain control characters or invisible text-direction characters.");
            }
        }
        return v;
    }

    /** Control characters, bidi controls and line/paragraph separators, which can disguise a name. */
    static boolean isUnsafe(char c) {
        return Character.isISOControl(c)
                || (c >= '\u202A' && c <= '\u202E')
                || (c >= '\u2066' && c <= '\u2069')
                || c == '\u200E' || c == '\u200F' || c == '\u061C'
                || c == '\u2028' || c == '\u2029';
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
