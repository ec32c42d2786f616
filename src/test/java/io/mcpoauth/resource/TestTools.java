package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.List;
import java.util.Map;

/** Extra tools the tests register next to the built-ins. */
final class TestTools {
    private TestTools() {}

    static List<McpTool> all() {
        return List.of(new AdminEcho(), new ThreadProbe(), new Boom(), new VisitPage());
    }

    /** Needs two scopes at once. */
    static class AdminEcho implements McpTool {
        public String name() { return "admin_echo"; }
        public String description() { return "needs admin and notes:write"; }
        public String requiredScope() { return "admin notes:write"; }
        public Map<String, Object> inputSchema() { return McpTool.objectSchema(Map.of()); }
        public CallToolResult call(AuthContext ctx, Map<String, Object> args) { return McpTool.text("admin ok for " + ctx.userId()); }
    }

    /** Reports whether it runs synchronously inside the /mcp filter, i.e. on the HTTP request thread. */
    static final class ThreadProbe implements McpTool {
        public String name() { return "thread_probe"; }
        public String description() { return "where do tools run"; }
        public String requiredScope() { return null; }
        public Map<String, Object> inputSchema() { return McpTool.objectSchema(Map.of()); }
        public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
            boolean insideFilter = StackWalker.getInstance().walk(s -> s.anyMatch(f -> f.getClassName().equals(McpAuthFilter.class.getName())));
            return McpTool.json(Map.of("inside_filter", insideFilter, "thread", Thread.currentThread().getName()));
        }
    }

    /** Throws with a message that must never reach the client. */
    static final class Boom implements McpTool {
        public String name() { return "boom"; }
        public String description() { return "always fails"; }
        public String requiredScope() { return "mcp"; }
        public Map<String, Object> inputSchema() { return McpTool.objectSchema(Map.of()); }
        public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
            throw new IllegalStateException("secret-internal-detail");
        }
    }

    /** Sends the user to a page (a URL question) before answering; its argument {@code account} is echoed. */
    static final class VisitPage implements McpTool {
        public String name() { return "visit_page"; }
        public String description() { return "asks the user to open a page first"; }
        public String requiredScope() { return "mcp"; }
        public Map<String, Object> inputSchema() {
            return McpTool.objectSchema(Map.of("account", Map.of("type", "string")), "account");
        }
        public ToolResult call(ToolCall call) {
            Answer a = call.answer("visit");
            if (a != null && a.accepted()) return ToolResult.of(McpTool.text("visited for " + call.arguments().get("account") + " state=" + call.state()));
            return ToolResult.ask("visit", Question.url("Open the page to connect your account", "https://mcp.example.com/connect")).withState("s1");
        }
    }
}
