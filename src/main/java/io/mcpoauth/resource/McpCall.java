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
 * @param session         legacy: the caller's verified {@link LegacySession} (what the client declared in initialize);
 *                        null when the request named none (the client's capabilities are then unknown) and in the modern era
 * @param watch           where a URL elicitation that sends the user to connect is remembered, to announce its
 *                        completion on the session's stream; null when nothing would be announced
 */
public record McpCall(Era era, String protocolVersion, JsonNode message, AuthContext caller, RequestHeaders headers, LegacySession session,
                      ConnectWatch watch, ClientLink link) {

    /** Remembers that {@code elicitationId} sends the caller to connect {@code connection} (see {@link McpCall#connectElicitation}). */
    @FunctionalInterface
    public interface ConnectWatch {
        void expect(String elicitationId, String connection);
    }

    /** A call outside any session (tests, in-process callers). */
    public McpCall(Era era, String protocolVersion, JsonNode message, AuthContext caller, RequestHeaders headers) {
        this(era, protocolVersion, message, caller, headers, null, null, null);
    }

    /**
     * Whether a URL question that cannot be asked on this legacy call goes back as URLElicitationRequiredError (-32042):
     * on 2025-11-25, to a client that declared {@code elicitation.url} in its session's initialize, or whose
     * capabilities are unknown (no session named). Everyone else gets a tool error that gives the link.
     */
    public boolean urlElicitationRequired() {
        return era == Era.LEGACY && ProtocolVersions.V2025_11_25.equals(protocolVersion) && (session == null || session.elicitUrl());
    }

    /**
     * A new elicitationId for a URL elicitation (in a -32042) that sends the caller to connect {@code connection}; when
     * the call came in a session, {@code notifications/elicitation/complete} for it is sent on that session's open
     * stream once the user has connected.
     */
    public String connectElicitation(String connection) {
        String id = java.util.UUID.randomUUID().toString();
        if (watch != null && connection != null) watch.expect(id, connection);
        return id;
    }

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
