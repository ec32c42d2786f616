package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.Map;

/**
 * One MCP tool. Implement it in one class per tool and register the instance in {@link Tools} (the one list the
 * endpoint serves). The caller arrives as {@link AuthContext}, derived from the bearer token by the endpoint: a tool
 * never takes a user parameter and must scope everything it reads or writes to {@code ctx.userId()}.
 *
 * <p>Calls run on the HTTP request thread. Bad input is answered with {@link #error(String)} (a tool error result the
 * model can read), never by throwing; anything a tool throws becomes a generic "internal error" result and is logged
 * without the arguments.
 */
public interface McpTool {

    /** Unique tool name: 1-128 of {@code A-Z a-z 0-9 _ - .}. */
    String name();

    /** What the tool does, for the model. */
    String description();

    /**
     * The scope(s) the access token must carry to call this tool, space-separated when several are needed; null or
     * blank for any authenticated caller. A call without them is refused with HTTP 403 {@code insufficient_scope}
     * naming exactly these scopes, before the tool runs.
     */
    String requiredScope();

    /** JSON Schema (an object schema) of the arguments, as a JSON-like map; by default the tool takes none. */
    default Map<String, Object> inputSchema() {
        return objectSchema(Map.of());
    }

    /**
     * Runs the tool for {@code ctx}. {@code args} is never null (empty when the client sent none).
     */
    CallToolResult call(AuthContext ctx, Map<String, Object> args);

    /** Optional hints shown to clients (read-only, destructive...); null for none. */
    default McpSchema.ToolAnnotations annotations() {
        return null;
    }

    // ---- helpers for results ----

    /** A successful result with one text content. */
    static CallToolResult text(String text) {
        return CallToolResult.builder().addTextContent(text).isError(false).build();
    }

    /** A successful result whose text is {@code value} written as JSON (nulls omitted). */
    static CallToolResult json(Object value) {
        try {
            return text(Json.MAPPER.writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("tool result is not serialisable", e);
        }
    }

    /** A tool error result: the call reached the tool but failed (bad input, limit reached...). */
    static CallToolResult error(String message) {
        return CallToolResult.builder().addTextContent(message).isError(true).build();
    }

    /** An object schema with the given properties (a JSON-like map) and required property names. */
    static Map<String, Object> objectSchema(Map<String, Object> properties, String... required) {
        Map<String, Object> s = new java.util.LinkedHashMap<>();
        s.put("type", "object");
        s.put("properties", properties);
        if (required.length > 0) s.put("required", java.util.List.of(required));
        s.put("additionalProperties", false);
        return s;
    }
}
