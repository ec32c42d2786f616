package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import java.time.Instant;

/** One upstream MCP server as the gateway talks to it (legacy era, the session handled here, never seen by clients). */
interface Upstream extends AutoCloseable {
    /**
     * Sends one request as {@code caller} and waits for its result until {@code deadline}.
     *
     * @return the JSON-RPC {@code result}
     * @throws UpstreamException for an upstream JSON-RPC error, or when it is down, slow or not speaking MCP
     * @throws io.mcpoauth.core.ConnectionAccess.NotConnected when the entry needs the user's connection and there is none
     */
    JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline) throws UpstreamException;

    /**
     * Like {@link #request(AuthContext, String, JsonNode, Instant)}, handing each {@code notifications/progress} the
     * upstream sends about this request to {@code progress} (with the progress token the caller put in
     * {@code params._meta.progressToken}) before the result arrives.
     */
    default JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress)
            throws UpstreamException {
        return request(caller, method, params, deadline);
    }

    /** With {@code cancellation}: cancelling it tells the upstream ({@code notifications/cancelled}) and ends the wait. */
    default JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress,
                             Cancellation cancellation) throws UpstreamException {
        return request(caller, method, params, deadline, progress);
    }

    /** The upstream's era and protocol version as last negotiated (for {@code servers check}), or null. */
    String protocolVersion();

    /** Processes running (stdio), 0 for HTTP. */
    int processes();

    @Override
    void close();

    /** Closes it because a reload of the servers file changed or removed its server (its processes say so in the log). */
    default void retire() {
        close();
    }
}
