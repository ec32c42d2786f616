package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.modern.server.transport.McpHeaderDecoder;
import java.util.List;
import java.util.Set;

/**
 * Decides which {@link Era} one JSON-RPC message on {@code /mcp} speaks, and checks what that era requires of the
 * HTTP request before any backend sees it. Pure (a message and its headers in, a decision out), so every endpoint that
 * serves both eras (the built-in tools, a gateway to another server) routes the same way.
 *
 * <p>The rule (MCP 2026-07-28 basic/versioning, "A dual-era server selects its behavior from how the client opens"):
 * <ol>
 *   <li>{@code params._meta["io.modelcontextprotocol/protocolVersion"]} present: <b>modern</b>, whatever the method
 *       ({@code initialize} or {@code ping} with modern {@code _meta} are then unknown methods: 404, -32601).</li>
 *   <li>{@code initialize} (without that claim): <b>legacy</b>, the version negotiated from its body.</li>
 *   <li>No {@code MCP-Protocol-Version} header: <b>legacy</b> 2025-03-26 (the header exists since 2025-06-18).</li>
 *   <li>Header naming a legacy version: <b>legacy</b> at that version; naming a modern version: <b>modern</b> (a body
 *       without {@code _meta} is then refused with -32602, as a modern server must).</li>
 *   <li>Any other header value: refused with UnsupportedProtocolVersionError (-32022, HTTP 400) listing
 *       {@link ProtocolVersions#SUPPORTED}.</li>
 * </ol>
 *
 * <p>Modern requests are then checked in the order of the 2026-07-28 transport (basic/transports/streamable-http,
 * "Server Validation"), every refusal an HTTP 400 with the request's id: {@code Mcp-Method} present once and equal to
 * the method, {@code MCP-Protocol-Version} present once and equal to the {@code _meta} version, {@code Mcp-Name} (Base64
 * sentinel decoded) equal to {@code params.name}/{@code params.uri} for tools/call, prompts/get and resources/read
 * (HeaderMismatchError -32020 for each); then {@code _meta} with its required protocolVersion and clientCapabilities
 * (-32602), the version served (-32022), and a valid {@code logLevel} when one is sent (-32602). Modern notifications
 * (the core protocol defines none on HTTP) are let through without header checks. {@code Mcp-Param-*} headers are
 * ignored: no tool declares {@code x-mcp-header}.
 *
 * <p>Legacy requests keep the 2025 transport rule the SDK applied before: {@code Accept} must list both
 * {@code application/json} and {@code text/event-stream} (400).
 */
public final class EraRouter {
    public static final String META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
    public static final String META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
    public static final String META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
    public static final String META_LOG_LEVEL = "io.modelcontextprotocol/logLevel";
    public static final String PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version";
    public static final String METHOD_HEADER = "Mcp-Method";
    public static final String NAME_HEADER = "Mcp-Name";
    /** RFC 5424 levels, as MCP names them (server/utilities/logging). */
    public static final Set<String> LOG_LEVELS = Set.of("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency");

    private EraRouter() {}

    /** Where a message goes, or why it goes nowhere. */
    public sealed interface Decision permits Route, Refusal {}

    /** Serve the message in {@code era}; see {@link McpCall#protocolVersion()} for what {@code protocolVersion} holds. */
    public record Route(Era era, String protocolVersion) implements Decision {}

    /** Answer {@code reply} (a JSON-RPC error with the request's id) and stop. */
    public record Refusal(McpReply reply) implements Decision {}

    /** {@code message} must already be one well-formed JSON-RPC request or notification (see {@link JsonRpcShape}). */
    public static Decision route(JsonNode message, RequestHeaders headers) {
        JsonNode id = message.get("id");
        JsonNode params = message.get("params");
        JsonNode meta = params == null ? null : params.get("_meta");
        if (JsonRpcShape.isResponse(message)) { // only legacy servers send requests to clients; the version is not checked
            List<String> v = headers.values(PROTOCOL_VERSION_HEADER);
            return new Route(Era.LEGACY, v.size() == 1 ? v.get(0).trim() : ProtocolVersions.LEGACY_WITHOUT_HEADER);
        }
        if (meta != null && meta.isObject() && meta.has(META_PROTOCOL_VERSION)) return modern(message, headers);
        if ("initialize".equals(message.path("method").asText())) {
            JsonNode requested = params == null ? null : params.get("protocolVersion");
            return legacy(id, headers, requested != null && requested.isTextual() ? requested.asText() : null);
        }
        List<String> versions = headers.values(PROTOCOL_VERSION_HEADER);
        if (versions.isEmpty()) return legacy(id, headers, ProtocolVersions.LEGACY_WITHOUT_HEADER);
        if (versions.size() > 1) return refuse(id, McpReply.HEADER_MISMATCH, "MCP-Protocol-Version header has more than one value");
        String version = versions.get(0).trim();
        if (ProtocolVersions.isLegacy(version)) return legacy(id, headers, version);
        if (ProtocolVersions.isModern(version)) return modern(message, headers);
        return new Refusal(McpReply.unsupportedVersion(id, version));
    }

    private static Decision legacy(JsonNode id, RequestHeaders headers, String version) {
        String accept = String.join(",", headers.values("Accept"));
        if (!accept.contains("application/json") || !accept.contains("text/event-stream")) {
            return refuse(id, McpReply.INVALID_REQUEST, "the Accept header must list both application/json and text/event-stream");
        }
        return new Route(Era.LEGACY, version);
    }

    private static Decision modern(JsonNode message, RequestHeaders headers) {
        JsonNode id = message.get("id");
        JsonNode params = message.get("params");
        JsonNode meta = params == null ? null : params.get("_meta");
        JsonNode version = meta == null ? null : meta.get(META_PROTOCOL_VERSION);
        String claimed = version != null && version.isTextual() ? version.asText() : null;
        if (id == null) return new Route(Era.MODERN, claimed); // a notification: nothing to mirror-check, answered 202

        String method = message.path("method").asText();
        String problem = headerProblem(headers, METHOD_HEADER, method, false);
        if (problem == null && claimed != null) problem = headerProblem(headers, PROTOCOL_VERSION_HEADER, claimed, false);
        if (problem == null) {
            String nameKey = switch (method) {
                case "tools/call", "prompts/get" -> "name";
                case "resources/read" -> "uri";
                default -> null;
            };
            JsonNode name = nameKey == null || params == null ? null : params.get(nameKey);
            if (name != null && name.isTextual()) problem = headerProblem(headers, NAME_HEADER, name.asText(), true);
        }
        if (problem != null) return refuse(id, McpReply.HEADER_MISMATCH, problem);

        if (params == null || !params.isObject()) return refuse(id, McpReply.INVALID_PARAMS, "params is required (with _meta)");
        if (meta == null || !meta.isObject()) return refuse(id, McpReply.INVALID_PARAMS, "params._meta is required");
        if (claimed == null || claimed.isBlank()) return refuse(id, McpReply.INVALID_PARAMS, "_meta['" + META_PROTOCOL_VERSION + "'] is required (a string)");
        if (!ProtocolVersions.isModern(claimed)) return new Refusal(McpReply.unsupportedVersion(id, claimed));
        JsonNode capabilities = meta.get(META_CLIENT_CAPABILITIES);
        if (capabilities == null || !capabilities.isObject()) {
            return refuse(id, McpReply.INVALID_PARAMS, "_meta['" + META_CLIENT_CAPABILITIES + "'] is required (an object; {} for none)");
        }
        JsonNode clientInfo = meta.get(META_CLIENT_INFO);
        if (clientInfo != null && !clientInfo.isObject()) return refuse(id, McpReply.INVALID_PARAMS, "_meta['" + META_CLIENT_INFO + "'] must be an object");
        JsonNode level = meta.get(META_LOG_LEVEL);
        if (level != null && !(level.isTextual() && LOG_LEVELS.contains(level.asText()))) {
            return refuse(id, McpReply.INVALID_PARAMS, "_meta['" + META_LOG_LEVEL + "'] must be one of debug, info, notice, warning, error, critical, alert, emergency");
        }
        return new Route(Era.MODERN, claimed);
    }

    /** Null when {@code name} is sent exactly once and (decoded, for Mcp-Name) equals {@code expected}. */
    private static String headerProblem(RequestHeaders headers, String name, String expected, boolean sentinel) {
        List<String> values = headers.values(name);
        if (values.isEmpty()) return "Missing required header: " + name;
        if (values.size() > 1) return name + " header has more than one value";
        String value = values.get(0);
        if (sentinel) {
            value = McpHeaderDecoder.decodeValue(value);
            if (value == null) return name + " header has a malformed value";
        }
        if (!value.equals(expected)) {
            return "Header mismatch: " + name + " header value '" + McpReply.clip(value) + "' does not match body value '" + McpReply.clip(expected) + "'";
        }
        return null;
    }

    private static Refusal refuse(JsonNode id, int code, String message) {
        return new Refusal(McpReply.error(400, id, code, message, null));
    }
}
