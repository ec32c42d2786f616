package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A call to an upstream that did not produce a result. {@link #rpcError()} non-null: the upstream answered with a
 * JSON-RPC error (relayed to the client as it is). Otherwise the upstream is down, slow, full or said something that
 * is not MCP: the message is one sentence safe to show the user (never a stack trace, never a credential).
 */
public final class UpstreamException extends Exception {
    private final transient JsonNode rpcError;

    public UpstreamException(String message) {
        super(message, null, false, false);
        this.rpcError = null;
    }

    public UpstreamException(JsonNode rpcError) {
        super(rpcError.path("message").asText("error"), null, false, false);
        this.rpcError = rpcError;
    }

    /** The upstream's JSON-RPC {@code error} object, or null when the call failed before an answer. */
    public JsonNode rpcError() {
        return rpcError;
    }

    public int code() {
        return rpcError == null ? 0 : rpcError.path("code").asInt();
    }
}
