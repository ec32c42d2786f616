package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.config.McpServers;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stdio upstream: newline-delimited JSON-RPC over a child process's stdin/stdout, our own ids (the clients' ids
 * never reach the child). One shared process, or one per user ({@code per_user}), started on the first call, stopped
 * after {@code idle_timeout_seconds} without a call in flight, started again when it died; at most
 * {@code max_processes} (a new user beyond it is refused, a busy process is never stopped to make room).
 *
 * <p>The child's environment is built from nothing: {@link #BASE_ENV} copied from ours when set, the entry's
 * {@code env} (with {@code ${VAR}} already expanded), and for a per-user process {@code MCP_USER_ID},
 * {@code MCP_USERNAME}, the user's connection token when the entry asks for one, and with {@code "identity": "jwt"}
 * {@code MCP_IDENTITY_TOKEN}: an identity assertion (audience {@code mcp-server:NAME}) minted when the process starts,
 * which expires within minutes while the process lives on (it tells the process whom it serves at its start; identity
 * per call is for HTTP upstreams). Nothing else of ours (no
 * {@code ENCRYPTION_KEY}, {@code ADMIN_TOKEN}, {@code DATABASE_URL}...) reaches it. Its stderr goes to our log line by
 * line, prefixed with the server name and the user, each line cut at {@value #MAX_LOG_LINE} characters and at most
 * {@value #MAX_LOG_LINES_PER_MINUTE} lines a minute.
 *
 * <p>A process whose environment holds the user's connection token ({@code "as": "env:VAR"}) keeps that token for its
 * life, so before each call the user's current token is compared with the one it started with: when it changed
 * (refreshed, reconnected) the call goes to a new process started with the new one, and the old process stops as
 * soon as that user's calls in flight on it have ended (it stops at once when none are).
 */
final class StdioUpstream implements Upstream {
    private static final Logger log = LoggerFactory.getLogger(StdioUpstream.class);
    static final List<String> BASE_ENV = List.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL", "TERM");
    static final int MAX_LINE = 8 * 1024 * 1024;
    static final int MAX_LOG_LINE = 1000;
    static final int MAX_LOG_LINES_PER_MINUTE = 600;
    static final int MAX_PENDING = 1000;

    private final McpServers.Entry entry;
    private final ScheduledExecutorService timer;
    private final String clientVersion;
    private final Map<String, Child> children = new LinkedHashMap<>();
    /** Processes replaced because the user's token changed, finishing their calls in flight; guarded by children. */
    private final List<Child> draining = new ArrayList<>();
    private final ScheduledFuture<?> reaper;
    private volatile String negotiated;
    private volatile boolean closed;

    private final IdentityAssertions identity;

    StdioUpstream(McpServers.Entry entry, IdentityAssertions identity, ScheduledExecutorService timer, String clientVersion) {
        this.entry = entry;
        this.identity = identity;
        this.timer = timer;
        this.clientVersion = clientVersion;
        long every = Math.max(200, Math.min(5_000, entry.idleTimeout().toMillis() / 4));
        this.reaper = timer.scheduleWithFixedDelay(this::reap, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline) throws UpstreamException {
        return request(caller, method, params, deadline, null);
    }

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress)
            throws UpstreamException {
        return request(caller, method, params, deadline, progress, null);
    }

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress,
                            Cancellation cancellation) throws UpstreamException {
        Child c = acquire(caller, deadline);
        try {
            c.cancellation.set(cancellation);
            return c.call(method, params, deadline, progress);
        } finally {
            c.release();
        }
    }

    /** The caller's process, started (and initialized) when there is none or it died; counted busy until release. */
    private Child acquire(AuthContext caller, Instant deadline) throws UpstreamException {
        String key = entry.perUser() ? caller.userId() : "";
        McpServers.Connection conn = entry.connection();
        // the token a new process would get (refreshed first when about to expire); a process started with another is stale
        String token = entry.perUser() && conn != null && conn.kind().equals("env") ? caller.connection(conn.name()).accessToken() : null;
        Child c;
        Child stale = null;
        synchronized (children) {
            if (closed) throw new UpstreamException("the gateway is shutting down");
            c = children.get(key);
            if (c != null && !c.alive()) {
                children.remove(key);
                c.stop("it exited");
                c = null;
            }
            if (c != null && token != null && !token.equals(c.envToken)) {
                children.remove(key);
                if (c.busy == 0) stale = c;
                else draining.add(c); // stopped when its last call ends
                c = null;
            }
            if (c == null) {
                if (children.size() >= entry.maxProcesses()) {
                    Child idle = children.values().stream().filter(x -> x.busy == 0).min((a, b) -> Long.compare(a.lastUsed, b.lastUsed)).orElse(null);
                    if (idle == null) {
                        throw new UpstreamException("the server " + entry.name() + " already runs its most processes (" + entry.maxProcesses()
                                + "), all busy; try again shortly");
                    }
                    children.values().remove(idle);
                    idle.stop("making room for another user");
                }
                c = new Child(key, caller, token);
                children.put(key, c);
            }
            c.busy++;
            c.lastUsed = System.nanoTime();
        }
        if (stale != null) stale.stop("the user's connection token changed");
        try {
            c.start(deadline);
            return c;
        } catch (UpstreamException | RuntimeException e) {
            c.release();
            synchronized (children) {
                if (children.get(key) == c) children.remove(key);
            }
            c.stop("it failed to start");
            throw e;
        }
    }

    /** Stops processes idle for longer than the idle timeout, and forgets dead ones. */
    private void reap() {
        long idleNanos = entry.idleTimeout().toNanos();
        List<Child> stop = new ArrayList<>();
        synchronized (children) {
            children.values().removeIf(c -> {
                boolean go = c.busy == 0 && (System.nanoTime() - c.lastUsed > idleNanos || !c.alive());
                if (go) stop.add(c);
                return go;
            });
            draining.removeIf(c -> {
                boolean go = c.busy == 0;
                if (go) stop.add(c);
                return go;
            });
        }
        for (Child c : stop) c.stop(c.alive() ? "idle" : "it exited");
    }

    @Override
    public String protocolVersion() {
        return negotiated;
    }

    @Override
    public int processes() {
        synchronized (children) {
            return (int) (children.values().stream().filter(Child::alive).count() + draining.stream().filter(Child::alive).count());
        }
    }

    @Override
    public void close() {
        close("the gateway stops");
    }

    @Override
    public void retire() {
        close("the servers file changed");
    }

    private void close(String why) {
        reaper.cancel(false);
        List<Child> all;
        synchronized (children) {
            closed = true;
            all = new ArrayList<>(children.values());
            all.addAll(draining);
            children.clear();
            draining.clear();
        }
        for (Child c : all) c.stop(why);
    }

    /** The environment of a child for {@code caller}: built from nothing (see the class comment). */
    static Map<String, String> environment(McpServers.Entry entry, AuthContext caller, Map<String, String> ours) {
        return environment(entry, caller, ours, null);
    }

    /** With {@code identity} (an entry with {@code "identity": "jwt"}): {@code MCP_IDENTITY_TOKEN} minted at the start. */
    static Map<String, String> environment(McpServers.Entry entry, AuthContext caller, Map<String, String> ours, IdentityAssertions identity) {
        return environment(entry, caller, ours, identity, null);
    }

    /** With {@code token}: the connection token to put in the environment (null: the caller's current one). */
    static Map<String, String> environment(McpServers.Entry entry, AuthContext caller, Map<String, String> ours, IdentityAssertions identity, String token) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String k : BASE_ENV) {
            String v = ours.get(k);
            if (v != null) env.put(k, v);
        }
        env.putAll(entry.env());
        if (entry.perUser()) {
            env.put("MCP_USER_ID", caller.userId());
            if (caller.username() != null) env.put("MCP_USERNAME", caller.username());
            McpServers.Connection c = entry.connection();
            if (c != null && c.kind().equals("env")) env.put(c.target(), token != null ? token : caller.connection(c.name()).accessToken());
            if ("jwt".equals(entry.identity()) && identity != null) env.put("MCP_IDENTITY_TOKEN", identity.assertion(caller, entry.audience()));
        }
        return env;
    }

    /** One child process and its pending requests. */
    private final class Child {
        final String key;
        final AuthContext firstCaller;
        /** The connection token in its environment ({@code "as": "env:VAR"}), else null. */
        final String envToken;
        final String who;
        final AtomicLong ids = new AtomicLong();
        final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        int busy; // guarded by children
        long lastUsed; // guarded by children
        private Process process;
        private OutputStream stdin;
        private CompletableFuture<Void> ready;
        private volatile String exit;

        Child(String key, AuthContext caller, String envToken) {
            this.key = key;
            this.firstCaller = caller;
            this.envToken = envToken;
            this.who = entry.name() + (entry.perUser() ? " " + caller.userId() : "");
        }

        boolean alive() {
            Process p;
            synchronized (this) {
                p = process;
            }
            return p == null || p.isAlive();
        }

        void release() {
            boolean replaced;
            synchronized (children) {
                busy--;
                lastUsed = System.nanoTime();
                replaced = busy == 0 && draining.remove(this);
            }
            if (replaced) stop("the user's connection token changed");
        }

        /** Starts the process and runs initialize once; later callers wait for the same start. */
        void start(Instant deadline) throws UpstreamException {
            CompletableFuture<Void> r;
            boolean mine = false;
            synchronized (this) {
                if (ready == null) {
                    ready = new CompletableFuture<>();
                    mine = true;
                }
                r = ready;
            }
            if (mine) {
                try {
                    launch();
                    ObjectNode params = Json.MAPPER.createObjectNode();
                    params.put("protocolVersion", HttpUpstream.PROTOCOL_VERSION);
                    params.putObject("capabilities").putObject("elicitation"); // relayed to the calling client during a tools/call
                    params.putObject("clientInfo").put("name", "mcp-oauth-server-gateway").put("version", clientVersion);
                    JsonNode init = send("initialize", params, deadline);
                    negotiated = init.path("protocolVersion").asText(HttpUpstream.PROTOCOL_VERSION);
                    write(notification("notifications/initialized", null));
                    r.complete(null);
                } catch (UpstreamException e) {
                    r.completeExceptionally(e);
                    throw e;
                } catch (RuntimeException e) {
                    r.completeExceptionally(e);
                    throw e;
                }
            }
            try {
                r.get(Math.max(1, Duration.between(Instant.now(), deadline).toMillis()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UpstreamException u) throw u;
                throw new UpstreamException("the server " + entry.name() + " failed to start");
            } catch (TimeoutException e) {
                throw new UpstreamException("the server " + entry.name() + " did not start within " + entry.timeout().toSeconds() + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UpstreamException("interrupted");
            }
        }

        private void launch() throws UpstreamException {
            List<String> cmd = new ArrayList<>();
            cmd.add(entry.command());
            for (String a : entry.args()) cmd.add(entry.perUser() ? a.replace(McpServers.USER_PLACEHOLDER, McpServers.safeUser(firstCaller.userId())) : a);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().clear();
            pb.environment().putAll(environment(entry, firstCaller, System.getenv(), identity, envToken));
            if (entry.cwd() != null) {
                String dir = entry.cwd().toString();
                if (entry.perUser()) dir = dir.replace(McpServers.USER_PLACEHOLDER, McpServers.safeUser(firstCaller.userId()));
                pb.directory(new java.io.File(dir));
            }
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new UpstreamException("the server " + entry.name() + " could not be started: " + entry.command() + " (" + e.getClass().getSimpleName() + ")");
            }
            synchronized (this) {
                process = p;
                stdin = p.getOutputStream();
            }
            log.info("upstream {}: started process {} ({})", who, p.pid(), entry.command());
            Thread out = new Thread(() -> readStdout(p.getInputStream()), "mcp-stdio-" + entry.name() + "-out");
            out.setDaemon(true);
            out.start();
            Thread err = new Thread(() -> readStderr(p.getErrorStream()), "mcp-stdio-" + entry.name() + "-err");
            err.setDaemon(true);
            err.start();
        }

        /** Progress listeners by the token we put in the child's request (the client's token is put back by the listener). */
        final Map<String, java.util.function.Consumer<JsonNode>> progress = new ConcurrentHashMap<>();
        /** The cancellation of the call this thread is making (read by send, on the same thread). */
        final ThreadLocal<Cancellation> cancellation = new ThreadLocal<>();

        JsonNode call(String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> listener) throws UpstreamException {
            JsonNode token = params == null ? null : params.path("_meta").get("progressToken");
            if (listener == null || token == null || !(params instanceof ObjectNode)) return send(method, params, deadline);
            // the child is shared by several calls (and users): our own token per call routes its progress back to it
            // the reader thread only queues (bounded, the excess dropped): the caller's thread writes to the client, so a slow
            // client never holds up the child's other calls
            String ours = "gw-" + ids.incrementAndGet();
            ObjectNode p = ((ObjectNode) params).deepCopy();
            ((ObjectNode) p.get("_meta")).put("progressToken", ours);
            java.util.concurrent.ArrayBlockingQueue<JsonNode> queue = new java.util.concurrent.ArrayBlockingQueue<>(64);
            progress.put(ours, n -> {
                ObjectNode copy = n.deepCopy();
                if (copy.path("params").isObject()) ((ObjectNode) copy.get("params")).set("progressToken", token);
                queue.offer(copy);
            });
            try {
                return send(method, p, deadline, queue, listener);
            } finally {
                progress.remove(ours);
            }
        }

        private JsonNode send(String method, JsonNode params, Instant deadline) throws UpstreamException {
            return send(method, params, deadline, null, null);
        }

        /** Waits for {@code f}, handing what arrives in {@code queue} to {@code listener} meanwhile (on this thread). */
        private JsonNode await(CompletableFuture<JsonNode> f, Instant deadline, java.util.concurrent.BlockingQueue<JsonNode> queue,
                               java.util.function.Consumer<JsonNode> listener) throws InterruptedException, ExecutionException, TimeoutException {
            if (queue == null) return f.get(Math.max(1, Duration.between(Instant.now(), deadline).toMillis()), TimeUnit.MILLISECONDS);
            while (!f.isDone()) {
                long left = Duration.between(Instant.now(), deadline).toMillis();
                if (left <= 0) throw new TimeoutException();
                JsonNode n = queue.poll(Math.min(left, 100), TimeUnit.MILLISECONDS);
                if (n != null) listener.accept(n);
            }
            for (JsonNode n; (n = queue.poll()) != null; ) listener.accept(n);
            return f.get();
        }

        private JsonNode send(String method, JsonNode params, Instant deadline, java.util.concurrent.BlockingQueue<JsonNode> queue,
                              java.util.function.Consumer<JsonNode> listener) throws UpstreamException {
            if (pending.size() >= MAX_PENDING) throw new UpstreamException("the server " + entry.name() + " has too many calls in progress");
            long id = ids.incrementAndGet();
            CompletableFuture<JsonNode> f = new CompletableFuture<>();
            pending.put(id, f);
            ObjectNode msg = Json.MAPPER.createObjectNode();
            msg.put("jsonrpc", "2.0");
            msg.put("id", id);
            msg.put("method", method);
            if (params != null && !params.isMissingNode() && !params.isNull()) msg.set("params", params);
            Cancellation cancel = method.equals("tools/call") ? cancellation.get() : null;
            cancellation.remove();
            if (cancel != null && cancel.serverRequests() != null) relaying.put(id, cancel.serverRequests());
            try {
                if (exit != null) throw new UpstreamException("the server " + entry.name() + " stopped: " + exit);
                write(msg);
                if (cancel != null) {
                    cancel.onCancel(() -> {
                        try {
                            write(notification("notifications/cancelled", Json.MAPPER.createObjectNode().put("requestId", id).put("reason", "cancelled by the client")));
                        } catch (UpstreamException ignored) {
                            // the child is gone
                        }
                        f.completeExceptionally(new UpstreamException("the call was cancelled by the client"));
                    });
                }
                JsonNode response = await(f, deadline, queue, listener);
                JsonNode error = response.get("error");
                if (error != null && error.isObject()) throw new UpstreamException(error);
                JsonNode result = response.get("result");
                if (result == null || !result.isObject()) {
                    throw new UpstreamException("the server " + entry.name() + " answered something that is not an MCP response");
                }
                return result;
            } catch (TimeoutException e) {
                ObjectNode timeoutCancel = Json.MAPPER.createObjectNode().put("requestId", id).put("reason", "timeout");
                try {
                    write(notification("notifications/cancelled", timeoutCancel));
                } catch (UpstreamException ignored) {
                    // it is gone anyway
                }
                throw new UpstreamException("the server " + entry.name() + " did not answer within " + entry.timeout().toSeconds() + " s");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof UpstreamException u ? u : new UpstreamException("the server " + entry.name() + " failed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UpstreamException("interrupted");
            } finally {
                pending.remove(id);
                relaying.remove(id);
            }
        }

        /** The handlers of the upstream's own requests, by our id of the tools/call in progress that offered one. */
        final Map<Long, Cancellation.ServerRequests> relaying = new ConcurrentHashMap<>();

        private ObjectNode notification(String method, JsonNode params) {
            ObjectNode msg = Json.MAPPER.createObjectNode();
            msg.put("jsonrpc", "2.0");
            msg.put("method", method);
            if (params != null) msg.set("params", params);
            return msg;
        }

        private void write(JsonNode msg) throws UpstreamException {
            byte[] line = (msg.toString() + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (this) {
                try {
                    if (stdin == null) throw new IOException("not started");
                    stdin.write(line);
                    stdin.flush();
                } catch (IOException e) {
                    throw new UpstreamException("the server " + entry.name() + " is not accepting input (it exited?)");
                }
            }
        }

        private void readStdout(InputStream raw) {
            InputStream in = new BufferedInputStream(raw);
            String why = "it exited";
            try {
                String line;
                while ((line = line(in)) != null) {
                    if (line.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = Json.MAPPER.readTree(line);
                    } catch (IOException e) {
                        log.warn("upstream {}: ignored a line that is not JSON on stdout", who);
                        continue;
                    }
                    if (n == null || !n.isObject()) continue;
                    JsonNode id = n.get("id");
                    if (n.has("method")) {
                        if (id != null && !id.isNull()) answerServerRequest(n);
                        else if ("notifications/progress".equals(n.path("method").asText())) {
                            var listener = progress.get(n.path("params").path("progressToken").asText(""));
                            if (listener != null) listener.accept(n);
                        }
                        continue; // other notifications (logging, list changes) are not relayed
                    }
                    if (id != null && id.canConvertToLong()) {
                        CompletableFuture<JsonNode> f = pending.get(id.asLong());
                        if (f != null) f.complete(n);
                    }
                }
            } catch (IOException e) {
                why = "its output broke off";
            } catch (LineTooLong e) {
                why = "it wrote a line longer than " + (MAX_LINE >> 20) + " MB";
                Process p = process;
                if (p != null) p.destroyForcibly();
            }
            exit = why;
            UpstreamException gone = new UpstreamException("the server " + entry.name() + " stopped: " + why);
            pending.values().forEach(f -> f.completeExceptionally(gone));
        }

        /**
         * The child asked us something: ping is answered; any other request goes to the one tools/call in progress on
         * this child that relays such requests to its client (stdio messages do not say which call they belong to, so
         * with none or several such calls in progress it is refused, -32601 / -32603).
         */
        private void answerServerRequest(JsonNode n) {
            JsonNode upstreamId = n.get("id");
            java.util.function.Consumer<JsonNode> respond = response -> {
                ObjectNode reply = Json.MAPPER.createObjectNode();
                reply.put("jsonrpc", "2.0");
                reply.set("id", upstreamId);
                if (response.has("error")) reply.set("error", response.get("error"));
                else reply.set("result", response.path("result").isObject() ? response.get("result") : Json.MAPPER.createObjectNode());
                try {
                    write(reply);
                } catch (UpstreamException ignored) {
                    // the process is going away
                }
            };
            String method = n.path("method").asText();
            ObjectNode refusal = Json.MAPPER.createObjectNode();
            if ("ping".equals(method)) {
                respond.accept(refusal.set("result", Json.MAPPER.createObjectNode()));
                return;
            }
            var handlers = List.copyOf(relaying.values());
            if (handlers.size() == 1) {
                handlers.get(0).request(n, respond);
                return;
            }
            if (handlers.isEmpty()) refusal.putObject("error").put("code", -32601).put("message", "The gateway does not relay " + method + " outside a tool call");
            else refusal.putObject("error").put("code", -32603).put("message", "The gateway cannot tell which of several calls in progress " + method + " belongs to");
            respond.accept(refusal);
        }

        private void readStderr(InputStream raw) {
            InputStream in = new BufferedInputStream(raw);
            long windowStart = System.nanoTime();
            int inWindow = 0;
            int dropped = 0;
            try {
                String line;
                while ((line = boundedLine(in)) != null) {
                    if (System.nanoTime() - windowStart > 60_000_000_000L) {
                        if (dropped > 0) log.warn("[{}] {} stderr lines not logged (more than {} a minute)", who, dropped, MAX_LOG_LINES_PER_MINUTE);
                        windowStart = System.nanoTime();
                        inWindow = 0;
                        dropped = 0;
                    }
                    if (++inWindow > MAX_LOG_LINES_PER_MINUTE) {
                        dropped++;
                        continue;
                    }
                    log.info("[{}] {}", who, line.replaceAll("\\p{Cntrl}", " "));
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }

        void stop(String why) {
            Process p;
            synchronized (this) {
                p = process;
            }
            if (p == null) return;
            if (p.isAlive()) {
                log.info("upstream {}: stopping process {} ({})", who, p.pid(), why);
                try {
                    p.getOutputStream().close();
                } catch (IOException ignored) {
                    // closing stdin asks it to leave
                }
                p.destroy();
                timer.schedule(() -> {
                    if (p.isAlive()) p.destroyForcibly();
                }, 3, TimeUnit.SECONDS);
            } else {
                log.info("upstream {}: process {} ended ({})", who, p.pid(), why);
            }
            exit = why;
        }
    }

    private static final class LineTooLong extends Exception {
        LineTooLong() {
            super(null, null, false, false);
        }
    }

    /** One line of stdout (bounded), or null at the end. */
    static String line(InputStream in) throws IOException, LineTooLong {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        boolean any = false;
        while ((c = in.read()) >= 0) {
            any = true;
            if (c == '\n') return b.toString(StandardCharsets.UTF_8);
            if (b.size() >= MAX_LINE) throw new LineTooLong();
            b.write(c);
        }
        return any ? b.toString(StandardCharsets.UTF_8) : null;
    }

    /** One line of stderr cut at {@link #MAX_LOG_LINE} characters (the rest of the line skipped), or null at the end. */
    static String boundedLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        boolean any = false;
        boolean cut = false;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while ((c = in.read()) >= 0) {
            any = true;
            if (c == '\n') break;
            if (bytes.size() < MAX_LOG_LINE) bytes.write(c);
            else cut = true;
        }
        if (!any) return null;
        b.append(bytes.toString(StandardCharsets.UTF_8));
        if (cut) b.append("...");
        return b.toString();
    }
}
