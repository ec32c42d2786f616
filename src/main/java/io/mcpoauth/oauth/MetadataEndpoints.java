package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.config.Settings;
import io.mcpoauth.http.Web;
import java.util.List;

/**
 * Discovery: {@code /.well-known/oauth-authorization-server} (RFC 8414), {@code /.well-known/oauth-protected-resource}
 * and {@code /.well-known/oauth-protected-resource/mcp} (RFC 9728), and a JSON 404 for
 * {@code /.well-known/openid-configuration} (we are not an OpenID provider; clients that find a document there
 * validate {@code jwks_uri} and friends). The documents are rendered once, from configuration only.
 *
 * <p>CORS: browser-based MCP clients (MCP Inspector, web hosts) fetch these documents and call {@code /register},
 * {@code /token} and {@code /revoke} with {@code fetch()} from their own origin. Those endpoints never rely on
 * ambient credentials (cookies): each request carries its own client credentials, code, PKCE verifier or token, so
 * {@code Access-Control-Allow-Origin: *} without {@code Allow-Credentials} exposes nothing a non-browser client could
 * not already get. Browsers never send cookies with such requests and refuse credentialed ones. The
 * cookie-based endpoints ({@code /authorize}, login and consent pages) get no CORS headers, and neither does
 * {@code /introspect} (a server-to-server call). {@link #allowBrowsers} is shared with {@link ClientEndpoints}.
 */
public final class MetadataEndpoints {
    static final String ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Accept, MCP-Protocol-Version";
    static final String EXPOSED_HEADERS = "WWW-Authenticate, Retry-After";

    private final Settings settings;
    private final byte[] authorizationServer;
    private final byte[] protectedResource;
    private final String noOpenId;

    /** @param grantTypes what the token endpoint handles ({@link TokenEndpoint#grantTypes}): {@code grant_types_supported} */
    public MetadataEndpoints(OAuthServices services, List<String> grantTypes) {
        this.settings = services.settings();
        this.authorizationServer = bytes(Metadata.authorizationServer(settings, services.registry().metadataDocumentsEnabled(), grantTypes));
        this.protectedResource = bytes(Metadata.protectedResource(settings));
        this.noOpenId = "This server is an OAuth 2.1 authorization server, not an OpenID provider: use "
                + settings.url(Metadata.AUTHORIZATION_SERVER_PATH) + ".";
    }

    public void routes(JavalinConfig config) {
        for (String path : Metadata.authorizationServerPaths(settings)) serve(config, path, authorizationServer);
        for (String path : Metadata.protectedResourcePaths(settings)) serve(config, path, protectedResource);
        String prefix = Metadata.pathPrefix(settings);
        for (String name : settings.mcpServers.servers().keySet()) { // each upstream server is a protected resource of its own
            byte[] doc = bytes(Metadata.protectedResource(settings, settings.mcpResource(name)));
            serve(config, Metadata.PROTECTED_RESOURCE_PATH + "/mcp/" + name, doc);
            if (!prefix.isEmpty()) serve(config, Metadata.PROTECTED_RESOURCE_PATH + prefix + "/mcp/" + name, doc);
        }
        for (String path : new String[] {"/.well-known/openid-configuration", "/.well-known/openid-configuration/*"}) {
            config.routes.get(path, ctx -> Web.error(ctx, 404, "not_found", noOpenId));
        }
        // The token endpoint is routed elsewhere (TokenEndpoint); its browser access is declared here with the rest.
        allowBrowsers(config, Metadata.TOKEN, "POST, OPTIONS");
    }

    private static void serve(JavalinConfig config, String path, byte[] document) {
        allowBrowsers(config, path, "GET, OPTIONS");
        config.routes.get(path, ctx -> {
            // Short public caching: documents change only with a restart under new settings.
            ctx.header("Cache-Control", "public, max-age=300");
            ctx.status(200).contentType(Web.JSON).result(document);
        });
    }

    /**
     * Lets browser pages on any origin call {@code path} without credentials: {@code Access-Control-Allow-Origin: *}
     * on every response (errors included, so a page can read the OAuth error) and a 204 answer to preflights.
     */
    static void allowBrowsers(JavalinConfig config, String path, String methods) {
        config.routes.before(path, MetadataEndpoints::corsHeaders);
        config.routes.options(path, ctx -> {
            corsHeaders(ctx);
            ctx.header("Access-Control-Allow-Methods", methods);
            ctx.header("Access-Control-Allow-Headers", ALLOWED_REQUEST_HEADERS);
            ctx.header("Access-Control-Max-Age", "7200");
            ctx.header("Allow", methods);
            ctx.status(204);
        });
    }

    private static void corsHeaders(Context ctx) {
        ctx.header("Access-Control-Allow-Origin", "*");
        ctx.header("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }

    private static byte[] bytes(Object o) {
        return Web.jsonBytes(o);
    }
}
