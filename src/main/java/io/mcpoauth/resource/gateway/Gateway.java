package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.McpServers;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.core.Events;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.McpBackend;
import io.mcpoauth.resource.McpEndpoint;
import io.mcpoauth.resource.McpRoute;
import io.mcpoauth.resource.McpTool;
import io.mcpoauth.resource.ToolBackend;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The MCP gateway: every server of the servers file ({@link McpServers}) is its own MCP endpoint at
 * {@code <PUBLIC_URL>/mcp/NAME} (its own audience and RFC 9728 metadata), and {@code /mcp} aggregates the built-in
 * tools with every upstream's:
 * <ul>
 *   <li>tools: built-in tools keep their names, an upstream's are {@code NAME_tool} ({@link #SEPARATOR} {@code _};
 *       a server name has no {@code _}, so the first one splits the name unambiguously); tools whose prefixed name is
 *       not a valid tool name ({@code [A-Za-z0-9_.-]{1,128}}) are left out. Order: built-ins, then servers by name,
 *       each server's tools in its own order. {@code tools.allow}/{@code tools.deny} hide and refuse tools.</li>
 *   <li>prompts: {@code NAME_prompt}, the same way.</li>
 *   <li>resources: URIs become {@code mcp-gateway://NAME/<original uri>} (templates alike), and reads of such a URI
 *       go to NAME with the original URI; the contents' URIs are rewritten the same way.</li>
 * </ul>
 * On {@code /mcp/NAME} names and URIs are the upstream's own. Upstreams are spoken to in the legacy era (2025-11-25
 * offered), whatever era the client speaks: {@link ToolBackend} answers the protocol itself (initialize, discover,
 * ping, the era's result shapes) and this backend adds the upstream's tools, results relayed as they are
 * ({@code content}, {@code structuredContent}, {@code isError}). A legacy client that sends a {@code progressToken}
 * gets the upstream's progress notifications in an SSE answer, and its {@code notifications/cancelled} reaches the
 * upstream call; the upstream's own requests (sampling, elicitation, roots) are refused, not relayed.
 */
public final class Gateway implements McpEndpoint.Extension, AutoCloseable {
    public static final String SEPARATOR = "_";
    public static final String URI_PREFIX = "mcp-gateway://";
    static final Pattern TOOL_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");
    static final int MAX_PAGES = 20;
    /** The longest a list (tools, prompts, resources) waits for one page: a slow server must not hold up the aggregate. */
    static final Duration LIST_TIMEOUT = Duration.ofSeconds(10);

    private final Settings settings;
    private final McpServers servers;
    private final Map<String, ServerRuntime> runtimes = new TreeMap<>();
    private final Function<String, BearerAuthenticator> authenticatorFor;
    private final ToolBackend empty;
    private final Events events;
    private final ScheduledExecutorService timer;
    private final ExecutorService httpThreads;
    /** Requests of upstreams relayed to clients, waiting for their responses (shared by /mcp and every /mcp/NAME). */
    final Relays relays = new Relays();
    /** 2026-07-28 calls waiting for the client's retry with answers (multi-round-trip requests). */
    final InputRounds rounds;

    /**
     * @param identity         signs identity assertions; null when none is available (an entry with
     *                         {@code "identity": "jwt"} is then a start error)
     * @param authenticatorFor the bearer check of one resource ({@code <PUBLIC_URL>/mcp/NAME})
     * @throws ConfigException for an entry that cannot be served
     */
    public Gateway(Settings settings, IdentityAssertions identity, Function<String, BearerAuthenticator> authenticatorFor, byte[] requestStateKey,
                   Clock clock, Events events) {
        this.settings = settings;
        this.rounds = new InputRounds(requestStateKey);
        this.servers = settings.mcpServers;
        this.authenticatorFor = authenticatorFor;
        this.events = events == null ? new Events() {} : events;
        this.empty = new ToolBackend(List.of(), McpEndpoint.serverVersion(), requestStateKey, clock);
        this.clock = clock;
        this.stateKey = io.mcpoauth.core.Hmac.derive(requestStateKey, "mcp-gateway-request-state"); // a key of its own, from the shared one
        String file = servers.source() == null ? "mcp-servers.json" : servers.source().toString();
        for (McpServers.Entry e : servers.servers().values()) {
            if ("jwt".equals(e.identity()) && identity == null) {
                throw new ConfigException(file + ": servers." + e.name() + ".identity: identity jwt is not available in this build");
            }
        }
        this.timer = Executors.newScheduledThreadPool(1, daemon("mcp-gateway-timer"));
        this.httpThreads = Executors.newFixedThreadPool(4, daemon("mcp-gateway-http"));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).executor(httpThreads).build();
        for (McpServers.Entry e : servers.servers().values()) {
            Upstream u = e.stdio() ? new StdioUpstream(e, identity, timer, McpEndpoint.serverVersion())
                    : new HttpUpstream(e, identity, http, timer, McpEndpoint.serverVersion());
            runtimes.put(e.name(), new ServerRuntime(e, u));
        }
    }

    private final Clock clock;
    private final byte[] stateKey;
    static final Duration STATE_TTL = Duration.ofMinutes(10);

    /**
     * A requestState for a call the gateway answered with a connect link: HMAC-SHA256 over this user and client, the
     * tool, the arguments and an expiry (ten minutes). It carries no data the retry relies on; it only tells that the
     * client is coming back from this very question.
     */
    String sealState(AuthContext caller, String tool, com.fasterxml.jackson.databind.JsonNode arguments) {
        long exp = clock.instant().plus(STATE_TTL).getEpochSecond();
        String body = exp + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(digest(caller, tool, arguments, exp));
        return CONNECT_STATE_PREFIX + body;
    }

    /** The prefix of {@link #sealState}: distinct from the relay rounds' ({@link InputRounds}) and upstreams' states. */
    static final String CONNECT_STATE_PREFIX = "gwc1.";

    /** True for a requestState of {@link #sealState} (valid or not): the retry of a call that sent the user to connect. */
    static boolean connectState(String state) {
        return state != null && state.startsWith(CONNECT_STATE_PREFIX);
    }

    /** Whether {@code state} is one of {@link #sealState} for the same user, client, tool and arguments, unexpired. */
    boolean openState(AuthContext caller, String tool, com.fasterxml.jackson.databind.JsonNode arguments, String state) {
        if (!connectState(state) || state.length() > 200) return false;
        String[] parts = state.substring(CONNECT_STATE_PREFIX.length()).split("\\.", -1);
        if (parts.length != 2) return false;
        long exp;
        byte[] mac;
        try {
            exp = Long.parseLong(parts[0]);
            mac = java.util.Base64.getUrlDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (clock.instant().getEpochSecond() > exp) return false;
        return java.security.MessageDigest.isEqual(mac, digest(caller, tool, arguments, exp));
    }

    private byte[] digest(AuthContext caller, String tool, com.fasterxml.jackson.databind.JsonNode arguments, long exp) {
        String args = arguments == null || arguments.isMissingNode() ? "{}" : arguments.toString();
        return io.mcpoauth.core.Hmac.sha256(stateKey, caller.userId() + "\n" + caller.clientId() + "\n" + tool + "\n" + exp + "\n" + args);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public McpBackend aggregate(ToolBackend builtIns) {
        if (servers.builtinEnabled()) {
            for (McpTool t : builtIns.tools()) {
                int sep = t.name().indexOf(SEPARATOR);
                if (sep > 0 && runtimes.containsKey(t.name().substring(0, sep))) {
                    throw new ConfigException("mcp-servers.json: servers." + t.name().substring(0, sep) + ": the built-in tool " + t.name()
                            + " would be ambiguous on /mcp; rename the server");
                }
            }
        }
        return new GatewayBackend(this, servers.builtinEnabled() ? builtIns : empty, runtimes, true);
    }

    @Override
    public Set<String> toolScopes(String tool) {
        int sep = tool.indexOf(SEPARATOR);
        ServerRuntime r = sep > 0 ? runtimes.get(tool.substring(0, sep)) : null;
        return r == null || r.entry.scope() == null ? null : scopes(r.entry.scope());
    }

    @Override
    public List<McpRoute> routes() {
        List<McpRoute> out = new ArrayList<>();
        for (ServerRuntime r : runtimes.values()) {
            String name = r.entry.name();
            out.add(new McpRoute("/mcp/" + name, new GatewayBackend(this, empty, Map.of(name, r), false),
                    authenticatorFor.apply(settings.mcpResource(name)), settings.url("/.well-known/oauth-protected-resource/mcp/" + name),
                    r.entry.scope(), caller -> r.entry.admits(caller.userId(), caller.username())));
        }
        return out;
    }

    static Set<String> scopes(String scope) {
        Set<String> s = new LinkedHashSet<>();
        for (String p : scope.trim().split("\\s+")) if (!p.isEmpty()) s.add(p);
        return Collections.unmodifiableSet(s);
    }

    Events events() {
        return events;
    }

    /** The counters of every server, by name. */
    public List<ServerStats> stats() {
        return runtimes.values().stream().map(r -> r.stats).toList();
    }

    /** Calls per server since start (for {@code /metrics}). */
    public Map<String, Long> callsByServer() {
        Map<String, Long> m = new TreeMap<>();
        runtimes.forEach((k, v) -> m.put(k, v.stats.calls()));
        return m;
    }

    public Map<String, Long> errorsByServer() {
        Map<String, Long> m = new TreeMap<>();
        runtimes.forEach((k, v) -> m.put(k, v.stats.errors()));
        return m;
    }

    public Map<String, Integer> processesByServer() {
        Map<String, Integer> m = new TreeMap<>();
        runtimes.forEach((k, v) -> m.put(k, v.stats.processes()));
        return m;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(runtimes.keySet());
    }

    /**
     * What {@code servers check NAME} reports.
     *
     * @param protocolVersion the version the upstream negotiated (legacy era), null when it could not be reached
     * @param tools           tools it lists (before allow/deny), -1 when unreachable
     * @param error           why it failed, null when it answered
     */
    public record Check(String name, String transport, String target, String protocolVersion, int tools, long millis, String error) {}

    /** Connects to {@code name} as a check user, lists its tools and measures how long that took. */
    public Check check(String name) {
        ServerRuntime r = runtimes.get(name);
        if (r == null) throw new IllegalArgumentException("no server named " + name);
        AuthContext checker = new AuthContext("gateway:check", "servers check", "local", "admin", settings.scopes, null);
        String target = r.entry.stdio() ? r.entry.command() + (r.entry.args().isEmpty() ? "" : " " + String.join(" ", r.entry.args())) : r.entry.url();
        long t0 = System.nanoTime();
        try {
            List<JsonNode> tools = listAll(r, checker, "tools/list", "tools");
            return new Check(name, r.stats.transport(), target, r.upstream.protocolVersion(), tools.size(), (System.nanoTime() - t0) / 1_000_000, null);
        } catch (UpstreamException e) {
            return new Check(name, r.stats.transport(), target, r.upstream.protocolVersion(), -1, (System.nanoTime() - t0) / 1_000_000, e.getMessage());
        } catch (ConnectionAccess.NotConnected e) {
            return new Check(name, r.stats.transport(), target, null, -1, (System.nanoTime() - t0) / 1_000_000,
                    "needs a user's connection " + e.connection() + "; check it as a user");
        } catch (RuntimeException e) {
            return new Check(name, r.stats.transport(), target, null, -1, (System.nanoTime() - t0) / 1_000_000, e.getClass().getSimpleName());
        }
    }

    /** Every item of a paginated list method ({@code tools/list}...), at most {@link #MAX_PAGES} pages; none when unsupported. */
    static List<JsonNode> listAll(ServerRuntime r, AuthContext caller, String method, String key) throws UpstreamException {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            ObjectNode params = Json.MAPPER.createObjectNode();
            if (cursor != null) params.put("cursor", cursor);
            JsonNode result;
            try {
                result = r.call(caller, method, params, LIST_TIMEOUT.compareTo(r.entry.timeout()) < 0 ? LIST_TIMEOUT : r.entry.timeout());
            } catch (UpstreamException e) {
                if (e.rpcError() != null && e.code() == -32601) return List.of();
                throw e;
            }
            JsonNode items = result.path(key);
            if (items.isArray()) items.forEach(out::add);
            JsonNode next = result.get("nextCursor");
            if (next == null || !next.isTextual() || next.asText().isEmpty()) break;
            cursor = next.asText();
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void close() {
        runtimes.values().forEach(ServerRuntime::close);
        rounds.close();
        timer.shutdownNow();
        httpThreads.shutdownNow();
    }
}
