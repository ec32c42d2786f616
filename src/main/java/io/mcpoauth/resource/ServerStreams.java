package io.mcpoauth.resource;

import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Json;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server-to-client streams of legacy sessions ({@code GET /mcp} with an {@code Mcp-Session-Id}, 2025-11-25
 * basic/transports "Listening for Messages from the Server"), and what is sent on them: {@code
 * notifications/elicitation/complete} once the user finished the connect flow a URLElicitationRequiredError sent them
 * to.
 *
 * <ul>
 *   <li>Each stream is an asynchronous servlet response written without blocking (no thread is held per stream): at
 *       most {@link #MAX_PER_USER} per user and {@link #MAX_STREAMS} in all; over either the GET is answered 429 with a
 *       sentence (the client then has no stream, and still gets every response on its POSTs). An SSE comment every
 *       {@link #HEARTBEAT} keeps proxies (and the server's own idle timeout) from closing a quiet stream; a stream whose
 *       client stops reading is closed. Every stream is closed when the server stops.</li>
 *   <li>A -32042 that sends the user to connect is remembered by its elicitationId (user, session, connection), for
 *       the connect state's ten minutes, at most {@link #MAX_PENDING} in all and {@link #MAX_PENDING_PER_USER} per user
 *       (the oldest is forgotten first). When that user connects that connection, the notification goes out on one
 *       open stream of that session (never on several: basic/transports, Multiple Connections).</li>
 *   <li>Only the instance that holds a stream can write to it: with several instances behind a load balancer the
 *       notification is sent only when the connect flow ends on the instance holding the session's stream.</li>
 * </ul>
 */
public final class ServerStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerStreams.class);
    public static final int MAX_PER_USER = 8;
    public static final int MAX_STREAMS = 512;
    public static final int MAX_PENDING = 10_000;
    public static final int MAX_PENDING_PER_USER = 32;
    /** How long a remembered elicitation waits for its connect flow: the connect state's lifetime. */
    public static final Duration PENDING_TTL = Duration.ofMinutes(10);
    public static final Duration HEARTBEAT = Duration.ofSeconds(10);
    /** Messages waiting for a client that does not read; one more closes the stream. */
    static final int MAX_QUEUED = 32;
    private static final byte[] HEARTBEAT_BYTES = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private record Pending(String userId, String sessionId, String connection) {}

    private final Clock clock;
    private final int maxPerUser;
    private final int maxStreams;
    private final Map<String, List<Stream>> bySession = new ConcurrentHashMap<>();
    private final Map<String, Integer> perUser = new ConcurrentHashMap<>();
    private final ExpiringMap<Pending> pending = new ExpiringMap<>(MAX_PENDING);
    private final ScheduledExecutorService timer;
    private int open;
    private volatile boolean closed;

    public ServerStreams(Clock clock) {
        this(clock, MAX_PER_USER, MAX_STREAMS, HEARTBEAT);
    }

    ServerStreams(Clock clock, int maxPerUser, int maxStreams, Duration heartbeat) {
        this.clock = clock;
        this.maxPerUser = maxPerUser;
        this.maxStreams = maxStreams;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mcp-session-streams");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::heartbeat, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Where {@link McpCall#connectElicitation} remembers the elicitations of {@code userId}'s session {@code sessionId}. */
    McpCall.ConnectWatch watch(String userId, String sessionId) {
        return (elicitationId, connection) -> pending.put(elicitationId, new Pending(userId, sessionId, connection),
                clock.instant().plus(PENDING_TTL), clock.instant(), ExpiringMap.Policy.evictable(new ExpiringMap.Owner(userId, MAX_PENDING_PER_USER)));
    }

    /**
     * {@code userId} has connected {@code connection}: every elicitation remembered for it is completed, each announced
     * on one open stream of its session. Called by the connect flow's thread; never blocks on a client.
     *
     * @return how many notifications were sent
     */
    public int connected(String userId, String connection) {
        List<Map.Entry<String, Pending>> done = new ArrayList<>();
        pending.removeWhere((id, p) -> {
            boolean match = p.userId().equals(userId) && p.connection().equals(connection);
            if (match) done.add(Map.entry(id, p));
            return match;
        });
        int sent = 0;
        for (Map.Entry<String, Pending> e : done) {
            List<Stream> streams = bySession.get(e.getValue().sessionId());
            Stream s = null;
            if (streams != null) {
                synchronized (streams) {
                    for (int i = streams.size() - 1; i >= 0 && s == null; i--) if (!streams.get(i).ended) s = streams.get(i); // the newest
                }
            }
            if (s == null) continue;
            var params = Json.MAPPER.createObjectNode().put("elicitationId", e.getKey());
            var n = Json.MAPPER.createObjectNode().put("jsonrpc", "2.0").put("method", "notifications/elicitation/complete");
            n.set("params", params);
            s.send(("event: message\ndata: " + n + "\n\n").getBytes(StandardCharsets.UTF_8));
            sent++;
        }
        if (sent > 0) log.debug("/mcp: {} elicitation(s) of {} completed on the session stream", sent, connection);
        return sent;
    }

    /**
     * Opens the stream of {@code session} for {@code userId} on this asynchronous request, or answers 429 when a cap is
     * reached (503 while the server stops).
     */
    void open(HttpServletRequest req, HttpServletResponse res, String userId, LegacySession session) throws IOException {
        String refusal = null;
        synchronized (this) {
            if (closed) refusal = "the server is shutting down; try again";
            else if (open >= maxStreams) refusal = "this server has " + maxStreams + " streams open, its most; try again later (responses still come on every POST)";
            else if (perUser.getOrDefault(userId, 0) >= maxPerUser) {
                refusal = "you have " + maxPerUser + " streams open, the most one user may; close one (responses still come on every POST)";
            } else {
                open++;
                perUser.merge(userId, 1, Integer::sum);
            }
        }
        if (refusal != null) {
            if (!closed) res.setHeader("Retry-After", "30");
            io.mcpoauth.http.Web.error(req, res, closed ? 503 : 429, closed ? "temporarily_unavailable" : "too_many_streams", refusal);
            return;
        }
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("UTF-8");
        res.setHeader("Cache-Control", "no-store");
        res.setHeader("X-Accel-Buffering", "no"); // a proxy must not hold back the stream's messages
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        Stream s = new Stream(async, res.getOutputStream(), userId, session.id());
        async.addListener(s);
        List<Stream> list = bySession.computeIfAbsent(session.id(), k -> new ArrayList<>());
        synchronized (list) {
            list.add(s);
        }
        s.send(": stream open\n\n".getBytes(StandardCharsets.US_ASCII)); // commits the headers at once
        s.out.setWriteListener(s);
    }

    /** Streams open now. */
    public synchronized int size() {
        return open;
    }

    private void heartbeat() {
        try {
            for (List<Stream> list : bySession.values()) {
                List<Stream> copy;
                synchronized (list) {
                    copy = List.copyOf(list);
                }
                for (Stream s : copy) s.send(HEARTBEAT_BYTES);
            }
            pending.sweep(clock.instant());
        } catch (RuntimeException e) {
            log.warn("/mcp session streams: heartbeat failed: {}", e.toString());
        }
    }

    private void ended(Stream s) {
        List<Stream> list = bySession.get(s.sessionId);
        if (list != null) {
            synchronized (list) {
                list.remove(s);
                if (list.isEmpty()) bySession.remove(s.sessionId, list);
            }
        }
        synchronized (this) {
            open--;
            perUser.computeIfPresent(s.userId, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Closes every stream; later GETs get 503. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        timer.shutdownNow();
        for (List<Stream> list : List.copyOf(bySession.values())) {
            List<Stream> copy;
            synchronized (list) {
                copy = List.copyOf(list);
            }
            copy.forEach(Stream::end);
        }
    }

    /** One open stream: messages queued and written when the connection can take them. */
    private final class Stream implements WriteListener, AsyncListener {
        final AsyncContext async;
        final ServletOutputStream out;
        final String userId;
        final String sessionId;
        private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
        private boolean listening;
        private boolean flushNeeded;
        volatile boolean ended;

        Stream(AsyncContext async, ServletOutputStream out, String userId, String sessionId) {
            this.async = async;
            this.out = out;
            this.userId = userId;
            this.sessionId = sessionId;
        }

        void send(byte[] message) {
            synchronized (this) {
                if (ended) return;
                if (queue.size() >= MAX_QUEUED) {
                    log.debug("/mcp: a session stream whose client does not read was closed");
                } else {
                    queue.add(message);
                    if (listening) drain();
                    return;
                }
            }
            end();
        }

        /** Writes what the connection takes now; the rest waits for {@link #onWritePossible}. */
        private void drain() {
            boolean failed = false;
            synchronized (this) {
                try {
                    while (!ended && out.isReady()) {
                        byte[] next = queue.poll();
                        if (next == null) {
                            if (flushNeeded) {
                                flushNeeded = false;
                                out.flush();
                                continue;
                            }
                            break;
                        }
                        out.write(next);
                        flushNeeded = true;
                    }
                } catch (IOException | IllegalStateException e) {
                    failed = true;
                }
            }
            if (failed) end();
        }

        @Override
        public void onWritePossible() {
            synchronized (this) {
                listening = true;
            }
            drain();
        }

        @Override
        public void onError(Throwable t) {
            end();
        }

        void end() {
            synchronized (this) {
                if (ended) return;
                ended = true;
                queue.clear();
            }
            ended(this);
            try {
                async.complete();
            } catch (IllegalStateException e) {
                // already completed or the connection is gone
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            end();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            end();
        }

        @Override
        public void onError(AsyncEvent event) {
            end();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {}
    }
}
