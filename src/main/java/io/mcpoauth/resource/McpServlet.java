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
        } else {
            reply = backend.handle(call);
            if (sessions != null && call.era() == Era.LEGACY && "initialize".equals(call.method()) && !call.isNotification()) startSession(res, call, reply);
        }
        write(res, reply);
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

    /** JSON when the work sends nothing before its response, else an SSE stream opened at the first message. */
    private static void writeAdaptive(HttpServletResponse res, McpReply.Adaptive work) throws IOException {
        boolean[] streaming = new boolean[1];
        boolean[] done = new boolean[1];
        java.io.IOException[] failed = new java.io.IOException[1];
        Object lock = new Object();
        java.util.function.Consumer<byte[]> event = json -> {
            synchronized (lock) { // messages may come from another thread than the request's (a stdio upstream's reader)
                if (failed[0] != null || done[0]) return;
                try {
                    if (!streaming[0]) {
                        streaming[0] = true;
                        res.setStatus(200);
                        res.setContentType("text/event-stream");
                        res.setCharacterEncoding("UTF-8");
                        res.setHeader("Cache-Control", "no-store");
                        res.setHeader("X-Accel-Buffering", "no"); // a proxy must not hold back the stream's messages
                    }
                    var out = res.getOutputStream();
                    out.write("event: message\ndata: ".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.write(json);
                    out.write("\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.flush();
                } catch (java.io.IOException e) {
                    failed[0] = e;
                }
            }
        };
        byte[] last = work.run(event);
        synchronized (lock) {
            if (streaming[0]) {
                event.accept(last);
                done[0] = true;
                return;
            }
            done[0] = true; // nothing more may be sent
            res.setStatus(200);
            res.setContentType("application/json");
            res.setCharacterEncoding("UTF-8");
            res.setContentLength(last.length);
            res.getOutputStream().write(last);
        }
    }

    static void write(HttpServletResponse res, McpReply reply) throws IOException {
        if (reply.stream() instanceof McpReply.AdaptiveStreamer adaptive) {
            writeAdaptive(res, adaptive.work());
            return;
        }
        res.setStatus(reply.status());
        if (reply.isStream()) {
            res.setContentType("text/event-stream");
            res.setCharacterEncoding("UTF-8");
            res.setHeader("Cache-Control", "no-store");
            res.setHeader("X-Accel-Buffering", "no");
            var out = res.getOutputStream();
            java.io.IOException[] failed = new java.io.IOException[1];
            reply.stream().run(json -> {
                if (failed[0] != null) return; // the client went away: the call still ends, nobody reads
                try {
                    out.write("event: message\ndata: ".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.write(json);
                    out.write("\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.flush();
                } catch (java.io.IOException e) {
                    failed[0] = e;
                }
            });
            return;
        }
        if (!reply.hasBody()) return;
        res.setContentType("application/json");
        res.setCharacterEncoding("UTF-8");
        res.setContentLength(reply.body().length);
        res.getOutputStream().write(reply.body());
    }
}
