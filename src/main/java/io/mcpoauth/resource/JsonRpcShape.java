package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The shape every POSTed message must have before the SDK sees it: one JSON-RPC 2.0 request or notification
 * (MCP 2025-06-18 removed batching), params an object, ids a string or integer, and for {@code tools/call} a tool
 * name and object arguments. Checking here turns client garbage into a 400 with a clear JSON-RPC error instead of
 * the SDK's 500 "Failed to handle request" for params it cannot convert.
 */
final class JsonRpcShape {
    private JsonRpcShape() {}

    /** Null when {@code m} is acceptable, else a short message for the client. */
    static String problem(JsonNode m) {
        if (m == null || m.isMissingNode()) return "empty body: expected one JSON-RPC message";
        if (m.isArray()) return "batch requests are not supported: send one JSON-RPC message per request";
        if (!m.isObject()) return "a JSON-RPC message must be a JSON object";
        if (!"2.0".equals(m.path("jsonrpc").asText(null)) || !m.get("jsonrpc").isTextual()) return "\"jsonrpc\" must be \"2.0\"";
        JsonNode method = m.get("method");
        if (method == null) return responseProblem(m);
        if (!method.isTextual() || method.asText().isEmpty()) return "\"method\" must be a non-empty string";
        JsonNode id = m.get("id");
        if (id != null && !(id.isTextual() || id.isIntegralNumber())) return "\"id\" must be a string or an integer";
        JsonNode params = m.get("params");
        if (params != null && !params.isObject()) return "\"params\" must be an object";
        if ("tools/call".equals(method.asText())) {
            if (params == null || !params.path("name").isTextual()) return "tools/call needs params.name (a string)";
            JsonNode args = params.get("arguments");
            if (args != null && !args.isObject() && !args.isNull()) return "tools/call params.arguments must be an object";
        }
        return null;
    }

    /**
     * A client's JSON-RPC response (to a request the server relayed to it during a call, legacy era): an id, and
     * exactly one of result (an object) or error (an object with an integer code); null when acceptable.
     */
    private static String responseProblem(JsonNode m) {
        boolean result = m.has("result"), error = m.has("error");
        if (!result && !error) return "only requests, notifications and responses are accepted (no \"method\", \"result\" or \"error\")";
        if (result && error) return "a response has either \"result\" or \"error\", not both";
        JsonNode id = m.get("id");
        if (id == null || !(id.isTextual() || id.isIntegralNumber())) return "a response needs the \"id\" of the request it answers (a string or an integer)";
        if (result && !m.get("result").isObject()) return "\"result\" must be an object";
        if (error && !(m.get("error").isObject() && m.get("error").path("code").isIntegralNumber())) return "\"error\" must be an object with an integer \"code\"";
        return null;
    }

    /** True for a message {@link #problem} accepted as a response (no method). */
    static boolean isResponse(JsonNode m) {
        return m != null && m.isObject() && !m.has("method") && (m.has("result") || m.has("error"));
    }
}
