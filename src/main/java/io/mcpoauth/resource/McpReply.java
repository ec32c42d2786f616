package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP answer to one MCP message: a status and a JSON body (one JSON-RPC response), or no body (202 for an
 * accepted notification). Every error body is a plain JSON-RPC error object: code, message, optional data, never a
 * stack trace.
 */
public record McpReply(int status, byte[] body, Streamer stream) {
    /** A JSON answer (or none, for 202). */
    public McpReply(int status, byte[] body) {
        this(status, body, null);
    }

    /**
     * Writes an answer as a {@code text/event-stream}: each call of {@code event} sends one JSON-RPC message (e.g. a
     * progress notification) at once; the last one must be the response.
     */
    @FunctionalInterface
    public interface Streamer {
        void run(java.util.function.Consumer<byte[]> event) throws java.io.IOException;
    }

    /** 200 with an SSE stream written by {@code streamer} (legacy era: notifications before the response). */
    public static McpReply stream(Streamer streamer) {
        return new McpReply(200, null, streamer);
    }

    /**
     * The work of an answer that becomes an SSE stream only if needed: {@code run} may send messages to the client
     * ({@code event}, e.g. a request relayed from an upstream server) before it returns the final JSON-RPC response.
     * Nothing sent before the end: the answer is plain JSON; else a {@code text/event-stream} ending with the response.
     */
    @FunctionalInterface
    public interface Adaptive {
        byte[] run(java.util.function.Consumer<byte[]> event) throws java.io.IOException;
    }

    /** The {@link Streamer} of an {@link #adaptive} reply (the servlet decides JSON or SSE when the first message comes). */
    public record AdaptiveStreamer(Adaptive work) implements Streamer {
        @Override
        public void run(java.util.function.Consumer<byte[]> event) throws java.io.IOException {
            event.accept(work.run(event));
        }
    }

    /** 200, JSON or SSE: see {@link Adaptive}. */
    public static McpReply adaptive(Adaptive work) {
        return new McpReply(200, null, new AdaptiveStreamer(work));
    }

    public boolean isStream() {
        return stream != null;
    }
    /** The codes of the MCP specification (basic/index "Error Codes") and of JSON-RPC. */
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** 2026-07-28: headers missing, malformed or not matching the body (HTTP 400). */
    public static final int HEADER_MISMATCH = -32020;
    /** 2026-07-28: the request needs a client capability it did not declare (HTTP 400). */
    public static final int MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;
    /** 2026-07-28: the requested protocol version is not served (HTTP 400); data: {supported, requested}. */
    public static final int UNSUPPORTED_PROTOCOL_VERSION = -32022;
    /** 2025-11-25 only: the request needs a URL-mode elicitation first; modern servers must not emit it. */
    public static final int URL_ELICITATION_REQUIRED = -32042;

    /** 202 Accepted, no body: a notification was taken. */
    public static McpReply accepted() {
        return new McpReply(202, null);
    }

    public static McpReply json(int status, JsonNode body) {
        return new McpReply(status, body.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..[,"data":..]}}; {@code id} null or missing gives null. */
    public static McpReply error(int status, JsonNode id, int code, String message, JsonNode data) {
        return json(status, errorObject(id, code, message, data));
    }

    public static ObjectNode errorObject(JsonNode id, int code, String message, JsonNode data) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("jsonrpc", "2.0");
        if (id == null || id.isMissingNode()) root.putNull("id");
        else root.set("id", id);
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        if (data != null) error.set("data", data);
        return root;
    }

    /** UnsupportedProtocolVersionError (-32022, HTTP 400) listing {@link ProtocolVersions#SUPPORTED}. */
    public static McpReply unsupportedVersion(JsonNode id, String requested) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("supported", Json.MAPPER.valueToTree(ProtocolVersions.SUPPORTED));
        data.put("requested", requested == null ? "" : requested);
        return error(400, id, UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version: " + clip(requested) + " (supported: "
                + String.join(", ", ProtocolVersions.SUPPORTED) + ")", data);
    }

    public boolean hasBody() {
        return body != null;
    }

    public String bodyText() {
        return body == null ? "" : new String(body, StandardCharsets.UTF_8);
    }

    static String clip(String s) {
        if (s == null) return "(none)";
        String one = s.replaceAll("[\\p{Cntrl}]+", " ");
        return one.length() <= 64 ? one : one.substring(0, 64) + "...";
    }
}
