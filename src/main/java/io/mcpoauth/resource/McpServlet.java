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
    private volatile boolean closing;

    McpServlet(McpBackend backend) {
        this.backend = backend;
    }

    void close() {
        closing = true;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
        McpReply reply;
        if (!(req.getAttribute(McpAuthFilter.CALL_ATTRIBUTE) instanceof McpCall call)) {
            reply = McpReply.error(403, null, McpReply.INVALID_REQUEST, "not admitted by the /mcp gate", null);
        } else if (closing) {
            reply = McpReply.error(503, call.id(), McpReply.INTERNAL_ERROR, "the server is shutting down; try again", null);
        } else {
            reply = backend.handle(call);
        }
        write(res, reply);
    }

    static void write(HttpServletResponse res, McpReply reply) throws IOException {
        res.setStatus(reply.status());
        if (reply.isStream()) {
            res.setContentType("text/event-stream");
            res.setCharacterEncoding("UTF-8");
            res.setHeader("Cache-Control", "no-store");
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
