package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.modern.JsonRpc;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The SDK's JSON mapper with one guard: an {@link McpError} (an exception) handed to it would be written with its whole
 * stack trace (upstream bug java-sdk #955). Here any {@link Throwable} becomes a plain JSON-RPC error object, and
 * internal-error messages of either era's responses (which may carry exception text) are replaced by "Internal error". Parsing uses the project's Jackson setup:
 * duplicate keys refused, nesting bounded, nulls never written.
 */
final class SafeJsonMapper implements McpJsonMapper {
    static final int INTERNAL_ERROR = McpSchema.ErrorCodes.INTERNAL_ERROR;
    private static final int MAX_MESSAGE = 200;

    private final ObjectMapper mapper;
    private final JacksonMcpJsonMapper delegate;

    SafeJsonMapper() {
        this.mapper = Json.create();
        this.delegate = new JacksonMcpJsonMapper(mapper);
    }

    @Override
    public <T> T readValue(String content, Class<T> type) throws IOException {
        return delegate.readValue(content, type);
    }

    @Override
    public <T> T readValue(byte[] content, Class<T> type) throws IOException {
        return delegate.readValue(content, type);
    }

    @Override
    public <T> T readValue(String content, TypeRef<T> type) throws IOException {
        return delegate.readValue(content, type);
    }

    @Override
    public <T> T readValue(byte[] content, TypeRef<T> type) throws IOException {
        return delegate.readValue(content, type);
    }

    @Override
    public <T> T convertValue(Object fromValue, Class<T> type) {
        return delegate.convertValue(fromValue, type);
    }

    @Override
    public <T> T convertValue(Object fromValue, TypeRef<T> type) {
        return delegate.convertValue(fromValue, type);
    }

    @Override
    public String writeValueAsString(Object value) throws IOException {
        return delegate.writeValueAsString(safe(value));
    }

    @Override
    public byte[] writeValueAsBytes(Object value) throws IOException {
        return delegate.writeValueAsBytes(safe(value));
    }

    /** What may be written in place of {@code value}. */
    Object safe(Object value) {
        if (value instanceof Throwable t) return errorObject(t);
        if (value instanceof McpSchema.JSONRPCResponse r && r.error() != null && r.error().code() != null
                && r.error().code() == INTERNAL_ERROR) {
            return new McpSchema.JSONRPCResponse(r.jsonrpc(), r.id(), null,
                    new McpSchema.JSONRPCResponse.JSONRPCError(INTERNAL_ERROR, "Internal error", null));
        }
        if (value instanceof JsonRpc.JSONRPCResponse r && r.error() != null && r.error().code() != null && r.error().code() == INTERNAL_ERROR) {
            return JsonRpc.JSONRPCResponse.error(r.id(), new JsonRpc.JSONRPCResponse.JSONRPCError(INTERNAL_ERROR, "Internal error", null));
        }
        return value;
    }

    /**
     * The id of the JSON-RPC request this thread is handling ({@link McpAuthFilter} sets it around the SDK's work), so
     * that an error written for an exception answers that request rather than {@code "id": null}.
     */
    static final ThreadLocal<JsonNode> REQUEST_ID = new ThreadLocal<>();

    /** {"jsonrpc":"2.0","id":<the request's or null>,"error":{"code":..,"message":..}} for an exception, never its trace. */
    ObjectNode errorObject(Throwable t) {
        int code = INTERNAL_ERROR;
        String message = "Internal error";
        if (t instanceof McpError e && e.getJsonRpcError() != null) {
            McpSchema.JSONRPCResponse.JSONRPCError err = e.getJsonRpcError();
            if (err.code() != null) code = err.code();
            if (code != INTERNAL_ERROR && err.message() != null) message = clip(err.message());
        }
        return jsonRpcError(mapper, REQUEST_ID.get(), code, message);
    }

    /** @param id the request's id when it could be read (a string or an integer), else null */
    static ObjectNode jsonRpcError(ObjectMapper m, JsonNode id, int code, String message) {
        ObjectNode root = m.createObjectNode();
        root.put("jsonrpc", "2.0");
        if (id != null && (id.isTextual() || id.isIntegralNumber())) root.set("id", id);
        else root.putNull("id");
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        return root;
    }

    static byte[] jsonRpcErrorBytes(JsonNode id, int code, String message) {
        return jsonRpcError(Json.MAPPER, id, code, message).toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String clip(String s) {
        String one = s.replaceAll("[\\r\\n\\t]+", " ");
        return one.length() <= MAX_MESSAGE ? one : one.substring(0, MAX_MESSAGE) + "...";
    }
}
