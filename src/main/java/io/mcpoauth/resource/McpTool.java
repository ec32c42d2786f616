package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.Map;

/**
 * One MCP tool. Implement it in one class per tool and register the instance in {@code resource.tools.BuiltInTools} (the one list the
 * endpoint serves). The caller arrives as {@link AuthContext}, derived from the bearer token by the endpoint: a tool
 * never takes a user parameter and must scope everything it reads or writes to {@code ctx.userId()}.
 *
 * <p>The same tool serves both protocol generations ({@link Era}): a tool is written once. A plain tool implements
 * {@link #call(AuthContext, Map)}. A tool that needs to ask the user something first (a confirmation, a choice, a visit
 * to a page) implements {@link #call(ToolCall)} instead: it answers {@link ToolResult#ask} with {@link Question}s and
 * reads the {@link Answer}s from the next {@link ToolCall}; {@link ToolResult} says what each kind of client gets.
 * Every tool overrides one of the two {@code call} methods ({@link McpEndpoint} checks at start).
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
    default CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        throw new UnsupportedOperationException(name() + " implements neither call(AuthContext, Map) nor call(ToolCall)");
    }

    /**
     * Runs one round of a call that may ask the user first. By default {@link #call(AuthContext, Map)}, finished at once.
     */
    default ToolResult call(ToolCall call) {
        return ToolResult.of(call(call.caller(), call.arguments()));
    }

    /** True when {@code tool} overrides at least one of the {@code call} methods. */
    static boolean implementsCall(McpTool tool) {
        try {
            return tool.getClass().getMethod("call", AuthContext.class, Map.class).getDeclaringClass() != McpTool.class
                    || tool.getClass().getMethod("call", ToolCall.class).getDeclaringClass() != McpTool.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

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
