package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;

/**
 * One MCP message that passed the {@code /mcp} gate ({@link McpAuthFilter}): authenticated, bounded, one well-formed
 * JSON-RPC request or notification, its {@link Era} decided and (modern) its headers checked by {@link EraRouter}.
 * What a {@link McpBackend} answers.
 *
 * @param era             which generation of the protocol the message speaks
 * @param protocolVersion modern: the {@code _meta} version; legacy: the {@code MCP-Protocol-Version} header, 2025-03-26
 *                        when absent, or for {@code initialize} the version the client asks for (null if none)
 * @param message         the JSON-RPC message as parsed (duplicate keys refused)
 * @param caller          who sent it, from the bearer token
 * @param headers         the HTTP request headers
 */
public record McpCall(Era era, String protocolVersion, JsonNode message, AuthContext caller, RequestHeaders headers) {

    public String method() {
        return message.path("method").asText();
    }

    /** The JSON-RPC id (a string or an integer), or null for a notification. */
    public JsonNode id() {
        JsonNode id = message.get("id");
        return id == null || id.isNull() ? null : id;
    }

    public boolean isNotification() {
        return id() == null;
    }

    /** A client's JSON-RPC response (result or error, no method) to a request the server sent it on an SSE answer. */
    public boolean isResponse() {
        return JsonRpcShape.isResponse(message);
    }

    /** {@code params}, or a missing node. */
    public JsonNode params() {
        return message.path("params");
    }
}
