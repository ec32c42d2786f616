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
    /** The servers file in use, its runtimes by name and the endpoints of those: replaced together by {@link #reload}. */
    private volatile McpServers servers;
    private volatile Map<String, ServerRuntime> runtimes;
    private volatile Map<String, McpRoute> routes;
    /** The backend of /mcp for the current runtimes (null until {@link #aggregate}). */
    private volatile GatewayBackend aggregate;
    private ToolBackend builtIns;
    /** Retired runtimes whose calls in flight have not all ended yet (closed with the gateway). */
    private final Set<ServerRuntime> retiring = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<Runnable> routeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Calls in flight of each endpoint ("" for /mcp), for the clients' cancellations. */
    private final Map<String, java.util.concurrent.ConcurrentHashMap<String, Cancellation>> flights = new java.util.concurrent.ConcurrentHashMap<>();
    private final IdentityAssertions identity;
    /** More checks of a new servers file (the connections it names exist...): one line per mistake. */
    private volatile Function<McpServers, List<String>> checks = s -> List.of();
    private final Function<String, BearerAuthenticator> authenticatorFor;
    private final ToolBackend empty;
    private final Events events;
    private final ScheduledExecutorService timer;
    private final Http1Client http;
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
        this.servers = settings.mcpServers();
        this.authenticatorFor = authenticatorFor;
        this.events = events == null ? new Events() {} : events;
        this.empty = new ToolBackend(List.of(), McpEndpoint.serverVersion(), requestStateKey, clock);
        this.clock = clock;
        this.stateKey = io.mcpoauth.core.Hmac.derive(requestStateKey, "mcp-gateway-request-state"); // a key of its own, from the shared one
        this.identity = identity;
        List<String> mistakes = identityMistakes(servers);
        if (!mistakes.isEmpty()) throw new ConfigException(mistakes);
        java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, daemon("mcp-gateway-timer"));
        t.setRemoveOnCancelPolicy(true); // every call arms a watchdog and cancels it: cancelled ones must not pile up until their deadline
        this.timer = t;
        this.http = new Http1Client(Duration.ofSeconds(5), Duration.ofSeconds(4), 64);
        Map<String, ServerRuntime> rs = new TreeMap<>();
        for (McpServers.Entry e : servers.servers().values()) rs.put(e.name(), new ServerRuntime(e, upstream(e)));
        this.runtimes = Collections.unmodifiableMap(rs);
        Map<String, McpRoute> rt = new TreeMap<>();
        for (ServerRuntime r : rs.values()) rt.put(r.entry.name(), route(r));
        this.routes = Collections.unmodifiableMap(rt);
    }

    private Upstream upstream(McpServers.Entry e) {
        return e.stdio() ? new StdioUpstream(e, identity, timer, McpEndpoint.serverVersion())
                : new HttpUpstream(e, identity, http, timer, McpEndpoint.serverVersion());
    }

    private static String file(McpServers s) {
        return s.source() == null ? "mcp-servers.json" : s.source().toString();
    }

    private List<String> identityMistakes(McpServers s) {
        List<String> out = new ArrayList<>();
        for (McpServers.Entry e : s.servers().values()) {
            if ("jwt".equals(e.identity()) && identity == null) {
                out.add(file(s) + ": servers." + e.name() + ".identity: identity jwt is not available in this build");
            }
        }
        return out;
    }

    /** Built-in tools whose names would read as a server's tools on /mcp ({@code NAME_tool}). */
    private List<String> ambiguities(McpServers s, Set<String> names) {
        List<String> out = new ArrayList<>();
        if (builtIns == null || !s.builtinEnabled()) return out;
        for (McpTool t : builtIns.tools()) {
            int sep = t.name().indexOf(SEPARATOR);
            if (sep > 0 && names.contains(t.name().substring(0, sep))) {
                out.add(file(s) + ": servers." + t.name().substring(0, sep) + ": the built-in tool " + t.name()
                        + " would be ambiguous on /mcp; rename the server");
            }
        }
        return out;
    }

    /** Checks a new servers file must also pass before {@link #reload} takes it (one line per mistake). */
    public Gateway checks(Function<McpServers, List<String>> checks) {
        this.checks = checks;
        return this;
    }

    java.util.concurrent.ConcurrentHashMap<String, Cancellation> inFlight(String endpoint) {
        return flights.computeIfAbsent(endpoint, k -> new java.util.concurrent.ConcurrentHashMap<>());
    }

    /**
     * What a reload did, by server name; {@code notes} says what it did not do (e.g. connections, read at start only).
     * With {@code problems} (one line per mistake of the new file) nothing was changed.
     */
    public record Reload(List<String> added, List<String> removed, List<String> changed, List<String> unchanged, List<String> notes,
                         List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /**
     * Reads the servers file again and, when it is valid in every respect, serves it: added servers get their
     * endpoint and join /mcp; removed ones disappear (their processes stopped, their sessions ended once their calls
     * in flight ended); changed ones are swapped (calls in flight finish on the old upstream, new ones reach the new
     * one); unchanged ones keep their processes and sessions. A change of only who may use a server, its tools,
     * scope or concurrency keeps its upstream too. With a mistake nothing changes.
     */
    public synchronized Reload reload() {
        McpServers next;
        try {
            next = settings.readMcpServers();
        } catch (ConfigException e) {
            return refused(e.lines());
        }
        List<String> problems = new ArrayList<>(identityMistakes(next));
        problems.addAll(ambiguities(next, next.servers().keySet()));
        problems.addAll(checks.apply(next));
        if (!problems.isEmpty()) return refused(problems);
        McpServers before = servers;
        Map<String, ServerRuntime> old = runtimes;
        Map<String, McpRoute> oldRoutes = routes;
        Map<String, ServerRuntime> rs = new TreeMap<>();
        Map<String, McpRoute> rt = new TreeMap<>();
        List<String> added = new ArrayList<>(), changed = new ArrayList<>(), unchanged = new ArrayList<>(), removed = new ArrayList<>();
        Map<ServerRuntime, ServerRuntime> replaced = new java.util.LinkedHashMap<>();
        for (McpServers.Entry e : next.servers().values()) {
            ServerRuntime was = old.get(e.name());
            if (was != null && was.entry.equals(e)) {
                rs.put(e.name(), was);
                rt.put(e.name(), oldRoutes.get(e.name()));
                unchanged.add(e.name());
                continue;
            }
            ServerRuntime now;
            if (was == null) {
                now = new ServerRuntime(e, upstream(e));
                added.add(e.name());
            } else {
                now = was.entry.sameUpstream(e) ? new ServerRuntime(e, was.upstream, was.stats) : new ServerRuntime(e, upstream(e));
                replaced.put(was, now);
                changed.add(e.name());
            }
            rs.put(e.name(), now);
            rt.put(e.name(), route(now));
        }
        for (String name : old.keySet()) if (!rs.containsKey(name)) removed.add(name);
        this.servers = next;
        this.runtimes = Collections.unmodifiableMap(rs);
        this.routes = Collections.unmodifiableMap(rt);
        if (builtIns != null) this.aggregate = new GatewayBackend(this, next.builtinEnabled() ? builtIns : empty, runtimes, true);
        settings.useMcpServers(next);
        routeListeners.forEach(Runnable::run);
        replaced.forEach((was, now) -> retire(was, now, now.upstream == was.upstream));
        for (String name : removed) retire(old.get(name), null, false);
        List<String> notes = new ArrayList<>();
        if (!java.util.Objects.equals(before.connections(), next.connections())) {
            notes.add("connections: changed in the file, but connections are read at start only; restart the server to use them");
        }
        if (before.builtinEnabled() != next.builtinEnabled()) notes.add("builtin: the built-in tools on /mcp are now " + (next.builtinEnabled() ? "on" : "off"));
        Reload r = new Reload(added, removed, changed, unchanged, notes, List.of());
        LOG.info("Servers file {} reloaded: added {}, removed {}, changed {}, unchanged {}{}", file(next), added, removed, changed, unchanged,
                notes.isEmpty() ? "" : "; " + String.join("; ", notes));
        return r;
    }

    private Reload refused(List<String> problems) {
        LOG.warn("Servers file {} not reloaded ({} mistake{}); nothing changed:", file(servers), problems.size(), problems.size() == 1 ? "" : "s");
        for (String p : problems) LOG.warn("  {}", p);
        return new Reload(List.of(), List.of(), List.of(), List.of(), List.of(), List.copyOf(problems));
    }

    private void retire(ServerRuntime r, ServerRuntime successor, boolean keepUpstream) {
        retiring.add(r);
        r.retire(successor, keepUpstream);
        retiring.removeIf(ServerRuntime::closed);
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Gateway.class);

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
    public synchronized McpBackend aggregate(ToolBackend builtIns) {
        this.builtIns = builtIns;
        List<String> mistakes = ambiguities(servers, runtimes.keySet());
        if (!mistakes.isEmpty()) throw new ConfigException(mistakes);
        this.aggregate = new GatewayBackend(this, servers.builtinEnabled() ? builtIns : empty, runtimes, true);
        return call -> aggregate.handle(call); // the servers of the file in use: a reload replaces the backend
    }

    @Override
    public Set<String> toolScopes(String tool) {
        int sep = tool.indexOf(SEPARATOR);
        ServerRuntime r = sep > 0 ? runtimes.get(tool.substring(0, sep)) : null;
        return r == null || r.entry.scope() == null ? null : scopes(r.entry.scope());
    }

    /** The endpoint {@code /mcp/NAME} of one runtime. */
    private McpRoute route(ServerRuntime r) {
        String name = r.entry.name();
        return new McpRoute("/mcp/" + name, new GatewayBackend(this, empty, Map.of(name, r), false),
                authenticatorFor.apply(settings.mcpResource(name)), settings.url("/.well-known/oauth-protected-resource/mcp/" + name),
                r.entry.scope(), caller -> r.entry.admits(caller.userId(), caller.username()));
    }

    /** The endpoints of the servers in use, by name; an unchanged server keeps its route object across reloads. */
    @Override
    public List<McpRoute> routes() {
        return List.copyOf(routes.values());
    }

    @Override
    public void onRoutesChanged(Runnable listener) {
        routeListeners.add(listener);
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
        retiring.forEach(ServerRuntime::close);
        rounds.close();
        timer.shutdownNow();
        http.close();
    }
}
