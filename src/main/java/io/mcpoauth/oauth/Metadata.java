package io.mcpoauth.oauth;

import io.mcpoauth.config.Settings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two discovery documents, built only from configuration (never from request headers, so a forged
 * {@code Host} or {@code X-Forwarded-Host} cannot change a URL): RFC 8414 authorization server metadata and RFC 9728
 * protected resource metadata. No value is ever null.
 */
public final class Metadata {
    private Metadata() {}

    public static final String AUTHORIZATION_SERVER_PATH = "/.well-known/oauth-authorization-server";
    public static final String PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";
    public static final String AUTHORIZE = "/authorize";
    public static final String TOKEN = "/token";
    public static final String REGISTER = "/register";
    public static final String REVOKE = "/revoke";
    public static final String INTROSPECT = "/introspect";

    /** Methods accepted at /token and /revoke (a public client revokes with just its client_id, RFC 7009 §2.1). */
    public static final List<String> CLIENT_AUTH_METHODS =
            List.of(ClientMetadata.AUTH_BASIC, ClientMetadata.AUTH_POST, ClientMetadata.AUTH_NONE);
    /** Introspection needs a real credential (RFC 7662 §2.1): a client secret (or the admin bearer token). */
    public static final List<String> INTROSPECTION_AUTH_METHODS = List.of(ClientMetadata.AUTH_BASIC, ClientMetadata.AUTH_POST);

    /**
     * RFC 8414 metadata; {@code clientIdMetadataDocuments} says whether https client_ids are fetched (CIMD),
     * {@code grantTypes} are the grant types the token endpoint has a handler for ({@link TokenEndpoint#grantTypes}).
     */
    public static Map<String, Object> authorizationServer(Settings settings, boolean clientIdMetadataDocuments, List<String> grantTypes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("issuer", settings.issuer);
        m.put("authorization_endpoint", settings.url(AUTHORIZE));
        m.put("token_endpoint", settings.url(TOKEN));
        m.put("registration_endpoint", settings.url(REGISTER));
        m.put("revocation_endpoint", settings.url(REVOKE));
        m.put("introspection_endpoint", settings.url(INTROSPECT));
        m.put("scopes_supported", List.copyOf(settings.scopes));
        m.put("response_types_supported", List.of("code"));
        m.put("response_modes_supported", List.of("query"));
        m.put("grant_types_supported", List.copyOf(grantTypes));
        m.put("code_challenge_methods_supported", List.of(Pkce.METHOD_S256));
        m.put("token_endpoint_auth_methods_supported", CLIENT_AUTH_METHODS);
        m.put("revocation_endpoint_auth_methods_supported", CLIENT_AUTH_METHODS);
        m.put("introspection_endpoint_auth_methods_supported", INTROSPECTION_AUTH_METHODS);
        m.put("authorization_response_iss_parameter_supported", true);
        if (clientIdMetadataDocuments) m.put("client_id_metadata_document_supported", true);
        m.put("protected_resources", settings.mcpResources());
        return m;
    }

    /** RFC 9728 metadata for the MCP endpoint; the same document is served at the root and the path-suffixed URL. */
    public static Map<String, Object> protectedResource(Settings settings) {
        return protectedResource(settings, settings.mcpResource());
    }

    /** RFC 9728 metadata for {@code resource} (the aggregate {@code /mcp} or one upstream's {@code /mcp/NAME}). */
    public static Map<String, Object> protectedResource(Settings settings, String resource) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resource", resource);
        m.put("authorization_servers", List.of(settings.issuer));
        m.put("scopes_supported", List.copyOf(settings.scopes));
        m.put("bearer_methods_supported", List.of("header"));
        return m;
    }

    /**
     * The request paths (relative to this server) at which each document is served. When {@code PUBLIC_URL} has a
     * path (the server sits under a prefix behind a proxy), the RFC 8414 §3.1 / RFC 9728 §3.1 path-inserted forms are
     * added as well, since a proxy that strips the prefix may forward either form.
     */
    static List<String> authorizationServerPaths(Settings settings) {
        List<String> out = new ArrayList<>(List.of(AUTHORIZATION_SERVER_PATH));
        String prefix = pathPrefix(settings);
        if (!prefix.isEmpty()) out.add(AUTHORIZATION_SERVER_PATH + prefix);
        return out;
    }

    static List<String> protectedResourcePaths(Settings settings) {
        List<String> out = new ArrayList<>(List.of(PROTECTED_RESOURCE_PATH, PROTECTED_RESOURCE_PATH + "/mcp"));
        String prefix = pathPrefix(settings);
        if (!prefix.isEmpty()) out.add(PROTECTED_RESOURCE_PATH + prefix + "/mcp");
        return out;
    }

    /** The path of {@code PUBLIC_URL} without a trailing slash ("" when it has none). */
    static String pathPrefix(Settings settings) {
        String p = settings.publicUrl.getRawPath();
        if (p == null) return "";
        while (p.endsWith("/")) p = p.substring(0, p.length() - 1);
        return p;
    }
}
