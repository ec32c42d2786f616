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
 * validate {@code jwks_uri} and friends). The documents are rendered from configuration only: once, and again after a
 * reload of the servers file changed its servers ({@code protected_resources}, {@code /mcp/NAME}).
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
    private final java.util.function.Supplier<byte[]> authorizationServer;
    private final byte[] protectedResource;
    /** The documents of the servers of one servers file, by name; replaced when the file in use is another. */
    private volatile Rendered rendered;

    private record Rendered(io.mcpoauth.config.McpServers servers, byte[] authorizationServer, java.util.Map<String, byte[]> resources) {}
    private final String noOpenId;

    /** @param grantTypes what the token endpoint handles ({@link TokenEndpoint#grantTypes}): {@code grant_types_supported} */
    public MetadataEndpoints(OAuthServices services, List<String> grantTypes) {
        this.settings = services.settings();
        boolean cimd = services.registry().metadataDocumentsEnabled();
        List<String> grants = List.copyOf(grantTypes);
        this.authorizationServer = () -> current(cimd, grants).authorizationServer;
        this.protectedResource = bytes(Metadata.protectedResource(settings));
        this.noOpenId = "This server is an OAuth 2.1 authorization server, not an OpenID provider: use "
                + settings.url(Metadata.AUTHORIZATION_SERVER_PATH) + ".";
    }

    /** The documents for the servers file in use, rendered again when it changed. */
    private Rendered current(boolean cimd, List<String> grantTypes) {
        io.mcpoauth.config.McpServers servers = settings.mcpServers();
        Rendered r = rendered;
        if (r != null && r.servers == servers) return r;
        java.util.Map<String, byte[]> docs = new java.util.HashMap<>();
        for (String name : servers.servers().keySet()) docs.put(name, bytes(Metadata.protectedResource(settings, settings.mcpResource(name))));
        r = new Rendered(servers, bytes(Metadata.authorizationServer(settings, cimd, grantTypes)), java.util.Map.copyOf(docs));
        rendered = r;
        return r;
    }

    public void routes(JavalinConfig config) {
        for (String path : Metadata.authorizationServerPaths(settings)) serve(config, path, authorizationServer);
        for (String path : Metadata.protectedResourcePaths(settings)) serve(config, path, () -> protectedResource);
        String prefix = Metadata.pathPrefix(settings);
        // each upstream server is a protected resource of its own; the servers of the file in use (it may be reloaded)
        java.util.function.Function<Context, byte[]> server = ctx -> {
            authorizationServer.get(); // renders the current servers' documents
            return rendered.resources.get(ctx.pathParam("name"));
        };
        serve(config, Metadata.PROTECTED_RESOURCE_PATH + "/mcp/{name}", server);
        if (!prefix.isEmpty()) serve(config, Metadata.PROTECTED_RESOURCE_PATH + prefix + "/mcp/{name}", server);
        for (String path : new String[] {"/.well-known/openid-configuration", "/.well-known/openid-configuration/*"}) {
            config.routes.get(path, ctx -> Web.error(ctx, 404, "not_found", noOpenId));
        }
        // The token endpoint is routed elsewhere (TokenEndpoint); its browser access is declared here with the rest.
        allowBrowsers(config, Metadata.TOKEN, "POST, OPTIONS");
    }

    private static void serve(JavalinConfig config, String path, java.util.function.Supplier<byte[]> document) {
        serve(config, path, ctx -> document.get());
    }

    /** {@code document} null: 404, as for any unknown path. */
    private static void serve(JavalinConfig config, String path, java.util.function.Function<Context, byte[]> document) {
        allowBrowsers(config, path, "GET, OPTIONS");
        config.routes.get(path, ctx -> {
            byte[] doc = document.apply(ctx);
            if (doc == null) {
                Web.error(ctx, 404, "not_found", "No MCP server at " + ctx.path().substring(Metadata.PROTECTED_RESOURCE_PATH.length()) + ".");
                return;
            }
            // Short public caching: documents change only with a restart under new settings or a reload of the servers file.
            ctx.header("Cache-Control", "public, max-age=300");
            ctx.status(200).contentType(Web.JSON).result(doc);
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
