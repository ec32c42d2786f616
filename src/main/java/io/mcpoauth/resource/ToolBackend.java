package io.mcpoauth.resource;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A set of {@link McpTool}s served in both eras: {@link Era#LEGACY} messages go to the SDK's stateless legacy server,
 * {@link Era#MODERN} ones to the SDK 2.2.0 modern server, both over the same tools (written once, run by one
 * {@link ToolRunner}: scopes, counting, no exception escapes). The seam for anything that serves tools in process:
 * build one per tool set and hand it to an endpoint as its {@link McpBackend}.
 */
public final class ToolBackend implements McpBackend {
    public static final String SERVER_NAME = "mcp-oauth-server";

    private final ToolRunner runner;
    private final LegacyToolServer legacy;
    private final ModernToolServer modern;

    /**
     * @param requestStateKey at least 32 secret bytes that survive a restart: the HMAC key of modern requestStates
     * @throws IllegalArgumentException for a duplicate or invalid tool name, a tool without {@code call}, a short key
     */
    public ToolBackend(List<McpTool> tools, String serverVersion, byte[] requestStateKey, Clock clock) {
        if (requestStateKey == null || requestStateKey.length < 32) throw new IllegalArgumentException("the requestState key needs at least 32 bytes");
        this.runner = new ToolRunner(tools);
        SafeJsonMapper mapper = new SafeJsonMapper();
        this.legacy = new LegacyToolServer(runner, mapper, SERVER_NAME, serverVersion);
        this.modern = new ModernToolServer(runner, mapper, SERVER_NAME, serverVersion, requestStateKey, clock);
    }

    @Override
    public McpReply handle(McpCall call) {
        if (call.isResponse()) return McpReply.error(400, call.id(), McpReply.INVALID_REQUEST, "No request of this server is waiting for a response with this id", null);
        return call.era() == Era.MODERN ? modern.handle(call) : legacy.handle(call);
    }

    /** Tool name to the scopes a call needs: what the gate checks before a tools/call (403 insufficient_scope). */
    public Map<String, Set<String>> toolScopes() {
        return runner.scopes();
    }

    public List<McpTool> tools() {
        return runner.tools();
    }

    /** Tool calls that reached a tool since start (all tools, both eras). */
    public long toolCalls() {
        return runner.toolCalls();
    }

    /** Tool calls per tool name since start, in registration order. */
    public Map<String, Long> toolCallsByTool() {
        return runner.toolCallsByTool();
    }
}
