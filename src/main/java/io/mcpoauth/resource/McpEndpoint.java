package io.mcpoauth.resource;

import io.javalin.config.JavalinConfig;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.HostPolicy;
import io.modelcontextprotocol.common.McpTransportContext;
import jakarta.servlet.DispatcherType;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * The MCP endpoint {@code /mcp}, serving MCP 2026-07-28 and the legacy 2025-11-25, 2025-06-18 and 2025-03-26 on the
 * same URL ({@link Era}): {@link McpAuthFilter} (Host/Origin allow-list, bearer authentication, one bounded JSON-RPC
 * message, {@link EraRouter}, per-tool scopes) in front of {@link McpServlet}, which hands each admitted message to a
 * {@link ToolBackend} over the tools (the MCP Java SDK's legacy stateless server and its 2.2.0 modern server).
 *
 * <pre>
 * McpEndpoint mcp = new McpEndpoint(settings, authenticator, tools, requestStateKey, clock);
 * Javalin app = Javalin.create(config -> { mcp.mount(config); ... });
 * </pre>
 *
 * Stateless in both eras: every POST is authenticated on its own and the caller's {@link AuthContext} reaches each
 * tool through the SDK's per-request {@link McpTransportContext}. The legacy era's {@code Mcp-Session-Id} is a
 * {@link LegacySession}: everything the server needs later (the capabilities declared in initialize, the version, whom
 * it was issued to) is sealed in the id, so the server keeps nothing and a session survives a restart. A session's
 * {@code GET} stream ({@link ServerStreams}) carries {@code notifications/elicitation/complete}.
 */
public final class McpEndpoint {
    static {
        tuneSdkLogging();
    }

    public static final String PATH = "/mcp";
    /** The legacy versions negotiated in {@code initialize} (see {@link ProtocolVersions} for all). */
    public static final List<String> PROTOCOL_VERSIONS = ProtocolVersions.LEGACY;
    /** Largest accepted POST body. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;
    /** Key of the caller's {@link AuthContext} in the SDK's {@link McpTransportContext}. */
    public static final String AUTH_CONTEXT_KEY = "io.mcpoauth.auth";

    private final ToolBackend backend;
    private final McpServlet servlet;
    private final McpAuthFilter filter;
    /** The extension's endpoints by path, each with its gate and servlet; replaced when the extension's routes change. */
    private volatile Map<String, Mounted> routes = Map.of();
    private final Settings settings;
    private final HostPolicy hosts;
    private final Extension extension;

    private record Mounted(McpRoute route, McpAuthFilter filter, McpServlet servlet) {}
    private final ServerStreams streams;
    private final LegacySession.Codec sessions;

    /**
     * What a gateway adds to the endpoint: the backend of {@code /mcp} itself (built-in tools and upstream tools
     * together), the scopes of the tools it adds, and endpoints of its own ({@link McpRoute}).
     */
    public interface Extension {
        /** The backend of {@code /mcp}, given the built-in tools' backend. */
        McpBackend aggregate(ToolBackend builtIns);

        /** The scopes a {@code tools/call} on {@code /mcp} of a tool that is not built in needs; null for none or unknown. */
        Set<String> toolScopes(String tool);

        /** The other endpoints to mount (now; see {@link #onRoutesChanged}). */
        List<McpRoute> routes();

        /** {@code listener} runs after {@link #routes} changed (a reload of the servers file). */
        default void onRoutesChanged(Runnable listener) {}
    }
    private final AtomicBoolean mounted = new AtomicBoolean();

    /**
     * The scope a tool requires unless it says otherwise: the default scopes ({@code OAUTH_DEFAULT_SCOPES},
     * space-separated when several), or the first supported scope when no default is configured.
     */
    public static String defaultScope(Settings settings) {
        if (!settings.defaultScopes.isEmpty()) return String.join(" ", settings.defaultScopes);
        return settings.scopes.iterator().next();
    }

    /**
     * @param tools           every tool to serve, names unique
     * @param requestStateKey at least 32 secret bytes that survive a restart (the HMAC key of modern requestStates)
     * @throws IllegalArgumentException for a duplicate or invalid tool name, a tool without a {@code call}
     */
    public McpEndpoint(Settings settings, BearerAuthenticator authenticator, List<McpTool> tools, byte[] requestStateKey, Clock clock) {
        this(settings, authenticator, tools, requestStateKey, clock, null);
    }

    /** @param extension a gateway's additions (null: the built-in tools alone) */
    public McpEndpoint(Settings settings, BearerAuthenticator authenticator, List<McpTool> tools, byte[] requestStateKey, Clock clock,
                       Extension extension) {
        this.backend = new ToolBackend(tools, version(), requestStateKey, clock);
        this.sessions = new LegacySession.Codec(requestStateKey, clock);
        this.streams = new ServerStreams(clock);
        this.servlet = new McpServlet(extension == null ? backend : extension.aggregate(backend), sessions, PATH, streams);
        Map<String, Set<String>> builtIn = Map.copyOf(backend.toolScopes());
        java.util.function.Function<String, Set<String>> scopes = extension == null ? builtIn::get : name -> {
            Set<String> s = builtIn.get(name);
            return s != null ? s : extension.toolScopes(name);
        };
        this.hosts = new HostPolicy(settings);
        this.settings = settings;
        this.extension = extension;
        this.filter = new McpAuthFilter(hosts, authenticator, resourceMetadataUrl(settings), defaultScope(settings), scopes, MAX_BODY_BYTES, null, null,
                sessions, PATH, streams);
        if (extension != null) {
            refreshRoutes();
            extension.onRoutesChanged(this::refreshRoutes);
        }
    }

    /** Mounts the extension's current routes: a route seen before keeps its gate and servlet (calls in flight go on). */
    private synchronized void refreshRoutes() {
        Map<String, Mounted> before = routes;
        Map<String, Mounted> next = new java.util.HashMap<>();
        for (McpRoute r : extension.routes()) {
            Mounted m = before.get(r.path());
            if (m == null || m.route != r) {
                m = new Mounted(r, new McpAuthFilter(hosts, r.authenticator(), r.resourceMetadataUrl(), r.scope() != null ? r.scope() : defaultScope(settings),
                        name -> null, MAX_BODY_BYTES, r.scope() == null ? null : scopesOf(r.scope()), r.admits(), sessions, r.path(), streams),
                        new McpServlet(r.backend(), sessions, r.path(), streams));
            }
            next.put(r.path(), m);
        }
        routes = Map.copyOf(next);
    }

    /**
     * Under {@code /mcp/}: a request for one of the extension's routes goes through its gate to its servlet; anything
     * else (an unknown or removed server) goes on as if there were no such route (404).
     */
    private final class RouteDispatch implements jakarta.servlet.Filter {
        @Override
        public void doFilter(jakarta.servlet.ServletRequest request, jakarta.servlet.ServletResponse response, jakarta.servlet.FilterChain chain)
                throws java.io.IOException, jakarta.servlet.ServletException {
            jakarta.servlet.http.HttpServletRequest req = (jakarta.servlet.http.HttpServletRequest) request;
            String uri = req.getRequestURI();
            String context = req.getContextPath() == null ? "" : req.getContextPath();
            Mounted m = uri != null && uri.startsWith(context) ? routes.get(uri.substring(context.length())) : null;
            if (m == null) {
                chain.doFilter(request, response);
                return;
            }
            m.filter.doFilter(request, response, (rq, rs) -> m.servlet.service(rq, rs));
        }
    }

    /** The version this server reports in serverInfo. */
    public static String serverVersion() {
        return version();
    }

    /** With a random requestState key: a restart invalidates pending questions (tests, tools that never ask). */
    public McpEndpoint(Settings settings, BearerAuthenticator authenticator, List<McpTool> tools) {
        this(settings, authenticator, tools, Secrets.randomBytes(32), Clock.systemUTC());
    }

    /** Registers the servlet and the filter on {@link #PATH} in Javalin's Jetty. Call once. */
    public void mount(JavalinConfig config) {
        if (!mounted.compareAndSet(false, true)) throw new IllegalStateException("McpEndpoint is already mounted");
        config.jetty.modifyServletContextHandler(handler -> {
            handler.addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
                @Override
                public void lifeCycleStopping(org.eclipse.jetty.util.component.LifeCycle event) {
                    streams.close(); // the streams never end by themselves
                }
            });
            ServletHolder sh = new ServletHolder("mcp", servlet);
            sh.setAsyncSupported(true);
            handler.addServlet(sh, PATH);
            FilterHolder fh = new FilterHolder(filter);
            fh.setName("mcp-auth");
            fh.setAsyncSupported(true);
            handler.addFilter(fh, PATH, EnumSet.of(DispatcherType.REQUEST));
            if (extension != null) { // the extension's routes (/mcp/NAME) may change while the server runs: one dispatcher for them all
                FilterHolder rf = new FilterHolder(new RouteDispatch());
                rf.setName("mcp-routes");
                rf.setAsyncSupported(true);
                handler.addFilter(rf, PATH + "/*", EnumSet.of(DispatcherType.REQUEST));
            }
        });
    }

    /** Tool calls that reached a tool since start (all tools, both eras). */
    public long toolCalls() {
        return backend.toolCalls();
    }

    /** Tool calls per tool name since start, in registration order. */
    public Map<String, Long> toolCallsByTool() {
        return backend.toolCallsByTool();
    }

    public List<McpTool> tools() {
        return backend.tools();
    }

    /** {@code <issuer>/.well-known/oauth-protected-resource/mcp}, named in every challenge. */
    public static String resourceMetadataUrl(Settings settings) {
        return settings.url("/.well-known/oauth-protected-resource" + PATH);
    }

    /**
     * {@code userId} finished connecting {@code connection} (the connect flow's listener): every URL elicitation that
     * sent them there from a legacy session is announced complete on that session's open stream.
     */
    public void connected(String userId, String connection) {
        streams.connected(userId, connection);
    }

    /** The legacy sessions' GET streams open now. */
    public int openStreams() {
        return streams.size();
    }

    /** Ends every session's GET stream (before the HTTP server stops, which would otherwise wait for them). */
    public void closeStreams() {
        streams.close();
    }

    /** Stops accepting calls (new requests get 503) and ends the streams; Jetty's shutdown also does this. */
    public void close() {
        servlet.close();
        routes.values().forEach(m -> m.servlet.close());
        streams.close();
    }

    static Set<String> scopesOf(String requiredScope) {
        return ToolRunner.scopesOf(requiredScope);
    }

    private static String version() {
        String v = McpEndpoint.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /**
     * The SDK logs every {@code initialize} at INFO with the client's details, every malformed request at ERROR with
     * parser text, and (modern server) every JSON-RPC body at DEBUG and unexpected exceptions at WARN with a stack
     * trace: quiet it (slf4j-simple levels, set before the SDK's loggers exist; an explicit
     * setting by the operator wins, e.g. {@code -Dorg.slf4j.simpleLogger.log.io.modelcontextprotocol=debug}).
     * Failures of our own tools are logged by the endpoint (tool name and exception class, never arguments).
     */
    static void tuneSdkLogging() {
        setIfAbsent("org.slf4j.simpleLogger.log.io.modelcontextprotocol", "error");
        setIfAbsent("org.slf4j.simpleLogger.log.io.modelcontextprotocol.server.transport", "off");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
