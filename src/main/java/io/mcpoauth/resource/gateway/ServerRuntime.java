package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.config.McpServers;
import io.mcpoauth.core.AuthContext;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * One configured upstream at run time: its transport, its concurrency caps (per server and per user; a call beyond
 * them is refused at once with a sentence, never queued), the per-user tool-list cache and its counters.
 *
 * <p>A reload of the servers file retires a runtime ({@link #retire}): calls in flight on it finish; it closes its
 * upstream (stops its processes, ends its sessions) once the last one ended; a call that reaches it after that goes
 * to its successor (the server as changed), or is refused when the server was removed.
 */
final class ServerRuntime implements AutoCloseable {
    static final long TOOLS_CACHE_NANOS = 30_000_000_000L;
    static final int MAX_CACHED_USERS = 10_000;

    final McpServers.Entry entry;
    final Upstream upstream;
    final ServerStats stats;
    private final Semaphore slots;
    private final Map<String, Integer> perUser = new HashMap<>();
    private final Map<String, Cached> toolLists = new LinkedHashMap<>(16, 0.75f, true);

    private record Cached(long at, List<JsonNode> tools) {}

    /** After a failed tools/list, the same failure is answered for {@link #FAILURE_CACHE_NANOS} (a down server does not slow every list). */
    static final long FAILURE_CACHE_NANOS = 10_000_000_000L;
    private volatile long failedAt;
    private volatile UpstreamException failure;

    /** Calls in flight; -1 once closed (no call enters after that). */
    private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean retired;
    private volatile boolean closeUpstream = true;
    private volatile ServerRuntime successor;

    ServerRuntime(McpServers.Entry entry, Upstream upstream) {
        this(entry, upstream, new ServerStats(entry.name(), entry.stdio() ? "stdio" : "http", upstream::processes));
    }

    /** With the upstream (its processes and sessions) and counters of the runtime this one replaces. */
    ServerRuntime(McpServers.Entry entry, Upstream upstream, ServerStats stats) {
        this.entry = entry;
        this.upstream = upstream;
        this.slots = new Semaphore(entry.maxConcurrent());
        this.stats = stats;
    }

    /**
     * Retires this runtime: {@code successor} (null: the server was removed) takes the calls that come after; this one
     * closes once its calls in flight ended, its upstream too unless {@code keepUpstream} (the successor took it over).
     */
    void retire(ServerRuntime successor, boolean keepUpstream) {
        this.successor = successor;
        this.closeUpstream = !keepUpstream;
        this.retired = true;
        if (active.compareAndSet(0, -1)) closeNow();
    }

    /** True once retired and its last call ended. */
    boolean closed() {
        return active.get() < 0;
    }

    private void closeNow() {
        if (closeUpstream) upstream.retire();
    }

    /** One request to the upstream within the caps and the entry's timeout. */
    JsonNode call(AuthContext caller, String method, JsonNode params) throws UpstreamException {
        return call(caller, method, params, entry.timeout());
    }

    /** One request within the caps and {@code timeout}. */
    JsonNode call(AuthContext caller, String method, JsonNode params, java.time.Duration timeout) throws UpstreamException {
        return call(caller, method, params, timeout, null);
    }

    /** With the progress notifications of the call handed to {@code progress} as they come. */
    JsonNode call(AuthContext caller, String method, JsonNode params, java.time.Duration timeout, java.util.function.Consumer<JsonNode> progress)
            throws UpstreamException {
        return call(caller, method, params, timeout, progress, null);
    }

    JsonNode call(AuthContext caller, String method, JsonNode params, java.time.Duration timeout, java.util.function.Consumer<JsonNode> progress,
                  Cancellation cancellation) throws UpstreamException {
        for (int n; ; ) {
            n = active.get();
            if (n < 0) { // retired and closed: the server as reloaded answers
                ServerRuntime next = successor;
                if (next == null) throw new UpstreamException("the server " + entry.name() + " was removed from the servers file");
                return next.call(caller, method, params, timeout, progress, cancellation);
            }
            if (active.compareAndSet(n, n + 1)) break;
        }
        try {
            return admitted(caller, method, params, timeout, progress, cancellation);
        } finally {
            if (active.decrementAndGet() == 0 && retired && active.compareAndSet(0, -1)) closeNow();
        }
    }

    private JsonNode admitted(AuthContext caller, String method, JsonNode params, java.time.Duration timeout, java.util.function.Consumer<JsonNode> progress,
                              Cancellation cancellation) throws UpstreamException {
        if (!slots.tryAcquire()) {
            throw new UpstreamException("the server " + entry.name() + " has " + entry.maxConcurrent() + " calls in progress, its most; try again shortly");
        }
        try {
            String user = caller.userId();
            synchronized (perUser) {
                int n = perUser.getOrDefault(user, 0);
                if (n >= entry.maxConcurrentPerUser()) {
                    throw new UpstreamException("you have " + n + " calls to " + entry.name() + " in progress, the most allowed; try again when one ends");
                }
                perUser.put(user, n + 1);
            }
            try {
                return upstream.request(caller, method, params, Instant.now().plus(timeout), progress, cancellation);
            } finally {
                synchronized (perUser) {
                    int n = perUser.getOrDefault(user, 1) - 1;
                    if (n <= 0) perUser.remove(user);
                    else perUser.put(user, n);
                }
            }
        } finally {
            slots.release();
        }
    }

    /** The upstream's tools for {@code caller} (every page, at most 20), cached 30 s per user; allow/deny not applied. */
    List<JsonNode> tools(AuthContext caller) throws UpstreamException {
        String key = caller.userId();
        synchronized (toolLists) {
            Cached c = toolLists.get(key);
            if (c != null && System.nanoTime() - c.at < TOOLS_CACHE_NANOS) return c.tools;
        }
        UpstreamException recent = failure;
        if (recent != null && System.nanoTime() - failedAt < FAILURE_CACHE_NANOS) throw recent;
        List<JsonNode> tools;
        try {
            tools = Gateway.listAll(this, caller, "tools/list", "tools");
        } catch (UpstreamException e) {
            if (e.rpcError() == null && !entry.stdio() && entry.connection() == null && !"jwt".equals(entry.identity())) { // not one user's own trouble
                failure = e;
                failedAt = System.nanoTime();
            }
            throw e;
        }
        failure = null;
        synchronized (toolLists) {
            toolLists.put(key, new Cached(System.nanoTime(), tools));
            while (toolLists.size() > MAX_CACHED_USERS) toolLists.remove(toolLists.keySet().iterator().next());
        }
        return tools;
    }

    /** Closes at once (the gateway stops), calls in flight or not. */
    @Override
    public void close() {
        active.set(-1);
        upstream.close();
    }
}
