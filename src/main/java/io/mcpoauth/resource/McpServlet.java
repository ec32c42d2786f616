package io.mcpoauth.resource;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The servlet on {@code /mcp}: hands the {@link McpCall} that {@link McpAuthFilter} admitted to the endpoint's
 * {@link McpBackend} and writes its {@link McpReply} (JSON with a Content-Length, or 202 with no body). A request that
 * did not come through the filter is refused.
 */
final class McpServlet extends HttpServlet {
    private final McpBackend backend;
    private final LegacySession.Codec sessions;
    private final String path;
    private final ServerStreams streams;
    private volatile boolean closing;

    McpServlet(McpBackend backend) {
        this(backend, null, null, null);
    }

    /**
     * @param sessions issues a {@link LegacySession} on every successful legacy {@code initialize} (null: none)
     * @param path     the endpoint's path, which its sessions are bound to
     * @param streams  the GET streams of sessions (null: none)
     */
    McpServlet(McpBackend backend, LegacySession.Codec sessions, String path, ServerStreams streams) {
        this.backend = backend;
        this.sessions = sessions;
        this.path = path;
        this.streams = streams;
    }

    void close() {
        closing = true;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
        McpReply reply;
        if (req.getAttribute(McpAuthFilter.STREAM_ATTRIBUTE) instanceof LegacySession session && streams != null
                && req.getAttribute(McpAuthFilter.AUTH_ATTRIBUTE) instanceof io.mcpoauth.core.AuthContext caller) {
            if (closing) {
                io.mcpoauth.http.Web.error(req, res, 503, "temporarily_unavailable", "the server is shutting down; try again");
                return;
            }
            streams.open(req, res, caller.userId(), session);
            return;
        }
        if (!(req.getAttribute(McpAuthFilter.CALL_ATTRIBUTE) instanceof McpCall call)) {
            reply = McpReply.error(403, null, McpReply.INVALID_REQUEST, "not admitted by the /mcp gate", null);
        } else if (closing) {
            reply = McpReply.error(503, call.id(), McpReply.INTERNAL_ERROR, "the server is shutting down; try again", null);
        } else if (call.link() != null) { // 2026-07-28 tools/call: kept open with SSE comments while it runs, so that a client that leaves cancels it
            Sink sink = new Sink(res, call.link());
            java.util.concurrent.ScheduledFuture<?> beat = HEARTBEATS.scheduleAtFixedRate(sink::heartbeat, HEARTBEAT_MILLIS, HEARTBEAT_MILLIS,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
            try {
                sink.write(backend.handle(call));
            } finally {
                beat.cancel(false);
            }
            return;
        } else {
            reply = backend.handle(call);
            if (sessions != null && call.era() == Era.LEGACY && "initialize".equals(call.method()) && !call.isNotification()) startSession(res, call, reply);
        }
        write(res, reply);
    }

    /** How often a long 2026-07-28 tools/call's open answer is checked with an SSE comment (the first after as long). */
    static final long HEARTBEAT_MILLIS = 2_000;
    private static final java.util.concurrent.ScheduledExecutorService HEARTBEATS = heartbeats();

    private static java.util.concurrent.ScheduledExecutorService heartbeats() {
        java.util.concurrent.ScheduledThreadPoolExecutor e = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mcp-heartbeat");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true); // most calls end before their first heartbeat
        return e;
    }

    /**
     * A successful legacy {@code initialize}: a new {@link LegacySession} in the {@code Mcp-Session-Id} header, holding
     * the version the server answered and the capabilities the client declared.
     */
    private void startSession(HttpServletResponse res, McpCall call, McpReply reply) {
        if (reply.status() != 200 || !reply.hasBody() || reply.isStream()) return;
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = io.mcpoauth.core.Json.MAPPER.readTree(reply.body());
        } catch (IOException e) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode version = root == null ? null : root.path("result").get("protocolVersion");
        if (version == null || !version.isTextual()) return;
        LegacySession s = sessions.issue(call.caller(), path, version.asText(), call.params().get("capabilities"));
        res.setHeader(LegacySession.HEADER, s.id());
    }

    static void write(HttpServletResponse res, McpReply reply) throws IOException {
        new Sink(res, null).write(reply);
    }

    /**
     * One answer: JSON with a Content-Length, or an SSE stream opened at the first message (or heartbeat) sent before
     * its end; every write under one lock (messages may come from another thread than the request's, such as a stdio
     * upstream's reader). A write that fails means the client went away: nothing more is written, and the call's
     * {@link ClientLink} (when it has one) is told.
     */
    private static final class Sink {
        private static final byte[] EVENT = "event: message\ndata: ".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        private static final byte[] END = "\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        private static final byte[] COMMENT = ":\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        private final HttpServletResponse res;
        private final ClientLink link;
        private boolean streaming;
        private boolean done;
        private boolean failed;

        Sink(HttpServletResponse res, ClientLink link) {
            this.res = res;
            this.link = link;
        }

        void write(McpReply reply) throws IOException {
            if (reply.stream() instanceof McpReply.AdaptiveStreamer adaptive) { // JSON unless something is sent before the response
                last(adaptive.work().run(this::event));
                return;
            }
            if (reply.isStream()) {
                synchronized (this) {
                    if (!streaming) res.setStatus(reply.status());
                    open();
                }
                reply.stream().run(this::event);
                synchronized (this) {
                    done = true;
                }
                return;
            }
            if (!reply.hasBody()) {
                synchronized (this) {
                    done = true;
                    if (streaming) return; // cannot happen for a request; nothing to add
                }
                res.setStatus(reply.status());
                return;
            }
            synchronized (this) {
                if (!streaming) res.setStatus(reply.status());
            }
            last(reply.body());
        }

        /** Sends one message on the stream (opening it first). */
        void event(byte[] json) {
            send(json);
        }

        /** An SSE comment: keeps the answer open and finds out whether the client is still reading. */
        void heartbeat() {
            send(null);
        }

        private void send(byte[] json) {
            boolean lost = false;
            synchronized (this) {
                if (failed || done) return;
                try {
                    open();
                    var out = res.getOutputStream();
                    if (json == null) {
                        out.write(COMMENT);
                    } else {
                        out.write(EVENT);
                        out.write(json);
                        out.write(END);
                    }
                    out.flush();
                } catch (IOException | RuntimeException e) {
                    failed = true;
                    lost = true;
                }
            }
            if (lost && link != null) link.gone();
        }

        private void open() {
            if (streaming) return;
            streaming = true;
            if (res.getStatus() < 200 || res.getStatus() >= 300) res.setStatus(200);
            res.setContentType("text/event-stream");
            res.setCharacterEncoding("UTF-8");
            res.setHeader("Cache-Control", "no-store");
            res.setHeader("X-Accel-Buffering", "no"); // a proxy must not hold back the stream's messages
        }

        /** The response: the stream's last message, or the whole JSON answer when nothing was streamed. */
        private void last(byte[] json) throws IOException {
            synchronized (this) {
                if (streaming) {
                    if (failed) {
                        done = true;
                        return;
                    }
                } else {
                    done = true; // nothing more may be sent
                    res.setContentType("application/json");
                    res.setCharacterEncoding("UTF-8");
                    res.setContentLength(json.length);
                    res.getOutputStream().write(json);
                    return;
                }
            }
            send(json);
            synchronized (this) {
                done = true;
            }
        }
    }
}
