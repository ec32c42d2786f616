package io.mcpoauth.resource;

import io.javalin.config.JavalinConfig;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.http.HostPolicy;
import io.mcpoauth.store.StoreException;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.server.McpStatelessSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import jakarta.servlet.DispatcherType;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The MCP endpoint {@code /mcp}: the official MCP Java SDK's stateless Streamable HTTP transport mounted in
 * Javalin's Jetty, behind {@link McpAuthFilter} (Host/Origin allow-list, bearer authentication, per-tool scopes).
 *
 * <pre>
 * McpEndpoint mcp = new McpEndpoint(settings, authenticator, tools);
 * Javalin app = Javalin.create(config -> { mcp.mount(config); ... });
 * </pre>
 *
 * Stateless: no {@code Mcp-Session-Id} is issued or honoured; every POST is authenticated on its own and the
 * caller's {@link AuthContext} reaches each tool through the SDK's per-request {@link McpTransportContext}.
 * Protocol versions {@link #PROTOCOL_VERSIONS} are negotiated in {@code initialize} (an unknown requested version is
 * answered with the newest).
 */
public final class McpEndpoint {
    static {
        tuneSdkLogging();
    }

    public static final String PATH = "/mcp";
    /** Oldest first; the last is proposed when a client asks for a version not listed. */
    public static final List<String> PROTOCOL_VERSIONS = List.of("2025-06-18", "2025-11-25");
    /** Largest accepted POST body. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;
    /** Key of the caller's {@link AuthContext} in the SDK's {@link McpTransportContext}. */
    public static final String AUTH_CONTEXT_KEY = "io.mcpoauth.auth";

    private static final Logger log = LoggerFactory.getLogger(McpEndpoint.class);
    private static final Pattern TOOL_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");

    private final List<McpTool> tools;
    private final HttpServletStatelessServerTransport servlet;
    private final McpStatelessSyncServer server;
    private final McpAuthFilter filter;
    private final LongAdder toolCalls = new LongAdder();
    private final Map<String, LongAdder> callsByTool = new LinkedHashMap<>();
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
     * @param tools every tool to serve, names unique
     * @throws IllegalArgumentException for a duplicate or invalid tool name
     */
    public McpEndpoint(Settings settings, BearerAuthenticator authenticator, List<McpTool> tools) {
        this.tools = List.copyOf(tools);
        Map<String, Set<String>> toolScopes = new LinkedHashMap<>();
        for (McpTool t : this.tools) {
            if (!TOOL_NAME.matcher(t.name()).matches()) throw new IllegalArgumentException("invalid tool name: " + t.name());
            if (toolScopes.containsKey(t.name())) throw new IllegalArgumentException("duplicate tool name: " + t.name());
            toolScopes.put(t.name(), scopesOf(t.requiredScope()));
            callsByTool.put(t.name(), new LongAdder());
        }

        SafeJsonMapper jsonMapper = new SafeJsonMapper();
        this.servlet = HttpServletStatelessServerTransport.builder()
                .messageEndpoint(PATH)
                .jsonMapper(jsonMapper)
                .maxRequestSize(MAX_BODY_BYTES)
                .contextExtractor(request -> {
                    Object ctx = request.getAttribute(McpAuthFilter.AUTH_ATTRIBUTE);
                    return ctx instanceof AuthContext a ? McpTransportContext.create(Map.of(AUTH_CONTEXT_KEY, a)) : McpTransportContext.EMPTY;
                })
                .build();
        this.server = McpServer.sync(new VersionedTransport(servlet))
                .serverInfo("mcp-oauth-server", version())
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .jsonMapper(jsonMapper)
                .immediateExecution(true)
                .jsonSchemaValidator(new ToolInputValidator())
                .tools(this.tools.stream().map(this::specification).toList())
                .build();

        this.filter = new McpAuthFilter(new HostPolicy(settings), authenticator,
                resourceMetadataUrl(settings), defaultScope(settings), toolScopes, PROTOCOL_VERSIONS, MAX_BODY_BYTES);
    }

    /** Registers the SDK servlet and the filter on {@link #PATH} in Javalin's Jetty. Call once. */
    public void mount(JavalinConfig config) {
        if (!mounted.compareAndSet(false, true)) throw new IllegalStateException("McpEndpoint is already mounted");
        config.jetty.modifyServletContextHandler(handler -> {
            ServletHolder sh = new ServletHolder("mcp", servlet);
            sh.setAsyncSupported(true);
            handler.addServlet(sh, PATH);
            FilterHolder fh = new FilterHolder(filter);
            fh.setName("mcp-auth");
            fh.setAsyncSupported(true);
            handler.addFilter(fh, PATH, EnumSet.of(DispatcherType.REQUEST));
        });
    }

    /** Tool calls that reached a tool since start (all tools). */
    public long toolCalls() {
        return toolCalls.sum();
    }

    /** Tool calls per tool name since start, in registration order. */
    public Map<String, Long> toolCallsByTool() {
        Map<String, Long> out = new LinkedHashMap<>();
        callsByTool.forEach((k, v) -> out.put(k, v.sum()));
        return Collections.unmodifiableMap(out);
    }

    public List<McpTool> tools() {
        return tools;
    }

    /** {@code <issuer>/.well-known/oauth-protected-resource/mcp}, named in every challenge. */
    public static String resourceMetadataUrl(Settings settings) {
        return settings.url("/.well-known/oauth-protected-resource" + PATH);
    }

    /** Stops accepting calls (new requests get 503); Jetty's shutdown also does this. */
    public void close() {
        server.closeGracefully();
    }

    private McpStatelessServerFeatures.SyncToolSpecification specification(McpTool tool) {
        McpSchema.Tool.Builder b = McpSchema.Tool.builder()
                .name(tool.name())
                .description(tool.description())
                .inputSchema(tool.inputSchema());
        if (tool.annotations() != null) b.annotations(tool.annotations());
        Set<String> needed = scopesOf(tool.requiredScope());
        LongAdder perTool = callsByTool.get(tool.name());
        return new McpStatelessServerFeatures.SyncToolSpecification(b.build(), (transportContext, request) -> {
            Object a = transportContext.get(AUTH_CONTEXT_KEY);
            if (!(a instanceof AuthContext ctx)) return McpTool.error("not authenticated");
            // The filter already answered 403 for a missing scope; this is the second lock on the same door.
            if (!ctx.scopes().containsAll(needed)) return McpTool.error("insufficient scope: needs " + String.join(" ", needed));
            toolCalls.increment();
            perTool.increment();
            Map<String, Object> args = request.arguments() == null ? Map.of() : request.arguments();
            try {
                McpSchema.CallToolResult r = tool.call(ctx, args);
                return r == null ? McpTool.error("the tool returned nothing") : r;
            } catch (StoreException e) {
                log.warn("tool {} failed: storage unavailable: {}", tool.name(), e.getMessage());
                return McpTool.error("storage is temporarily unavailable; try again");
            } catch (RuntimeException e) {
                log.warn("tool {} failed: {}", tool.name(), e.getClass().getName());
                return McpTool.error("internal error");
            }
        });
    }

    static Set<String> scopesOf(String requiredScope) {
        Set<String> s = new LinkedHashSet<>();
        if (requiredScope != null) {
            for (String part : requiredScope.trim().split("\\s+")) {
                if (!part.isEmpty()) s.add(part);
            }
        }
        return Collections.unmodifiableSet(s);
    }

    private static String version() {
        String v = McpEndpoint.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /**
     * The SDK logs every {@code initialize} at INFO with the client's details and every malformed request at
     * ERROR with parser text: quiet it (slf4j-simple levels, set before the SDK's loggers exist; an explicit
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

    /** The SDK servlet with our protocol-version list. */
    private static final class VersionedTransport implements McpStatelessServerTransport {
        private final HttpServletStatelessServerTransport delegate;

        VersionedTransport(HttpServletStatelessServerTransport delegate) {
            this.delegate = delegate;
        }

        @Override
        public void setMcpHandler(McpStatelessServerHandler handler) {
            delegate.setMcpHandler(handler);
        }

        @Override
        public Mono<Void> closeGracefully() {
            return delegate.closeGracefully();
        }

        @Override
        public List<String> protocolVersions() {
            return PROTOCOL_VERSIONS;
        }
    }
}
