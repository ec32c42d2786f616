package io.mcpoauth.resource;

/**
 * What serves the MCP messages of an endpoint once {@link McpAuthFilter} let them in and {@link EraRouter} decided
 * their era: the built-in tools ({@link ToolBackend}), or anything else that can answer a JSON-RPC message of either
 * era for an authenticated caller (e.g. a gateway to an upstream MCP server). Called on the HTTP request thread.
 */
@FunctionalInterface
public interface McpBackend {
    /**
     * Answers {@code call}: a JSON-RPC response (its id = the request's), or {@link McpReply#accepted()} for a
     * notification. Must not throw for anything a client can send; never puts internals in the body.
     */
    McpReply handle(McpCall call);
}
