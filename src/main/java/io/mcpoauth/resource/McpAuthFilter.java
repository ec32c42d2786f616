package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.Json;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.Bodies;
import io.mcpoauth.http.CachedBodyRequest;
import io.mcpoauth.http.Challenge;
import io.mcpoauth.http.HostPolicy;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Web;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate of {@code /mcp}, in front of {@link McpServlet}, in this order:
 * <ol>
 *   <li>{@code Host}, then {@code Origin} against {@link HostPolicy}: 403. First, so a DNS-rebinding page learns
 *       nothing (not even the 401 challenge) and no token is looked at for a request that is not for us.</li>
 *   <li>Bearer token from the {@code Authorization} header only (scheme case-insensitive; {@code ?access_token=} is
 *       never accepted): 401 with a {@code WWW-Authenticate} challenge naming the protected resource metadata.</li>
 *   <li>Methods other than POST: 405, except GET and DELETE with a legacy session of this caller ({@link LegacySession}:
 *       404 when the id is not one): GET opens the session's SSE stream ({@link ServerStreams}), DELETE is 405 (a
 *       session lives in its id only).</li>
 *   <li>A JSON body (415 otherwise), read once and bounded (413 above the limit), one JSON-RPC request or
 *       notification ({@link JsonRpcShape}; 400 with a JSON-RPC error otherwise: no batches).</li>
 *   <li>Its era and what that era requires of the HTTP request ({@link EraRouter}: protocol version, the modern
 *       mirrored headers, {@code _meta}): 400 with a JSON-RPC error carrying the request's id.</li>
 *   <li>Legacy: the {@code Mcp-Session-Id} the request names, when it names one (404 when it is not a session of this
 *       caller on this endpoint; the client then initializes again); {@code initialize} ignores it.</li>
 *   <li>For {@code tools/call}, the tool's required scopes: 403 {@code insufficient_scope} naming them.</li>
 * </ol>
 * The admitted message goes to the servlet as the request attribute {@link #CALL_ATTRIBUTE} (a {@link McpCall}); the
 * caller's {@link AuthContext} is also left in {@link #AUTH_ATTRIBUTE}. Every error body here is a small JSON object
 * ({@link Web#error}, or a JSON-RPC error); none carries a stack trace. Bodies, bearer credentials, challenges and the
 * Host/Origin policy come from the {@code http} edge toolkit, as for the Javalin routes.
 */
final class McpAuthFilter implements Filter {
    static final String AUTH_ATTRIBUTE = AuthContext.class.getName();
    static final String CALL_ATTRIBUTE = McpCall.class.getName();
    /** A GET admitted to open the stream of this {@link LegacySession}. */
    static final String STREAM_ATTRIBUTE = LegacySession.class.getName();
    static final String SESSION_NOT_FOUND = "Session not found: this Mcp-Session-Id is not a session of yours on this endpoint (unknown, expired,"
            + " or issued to another user or client); send initialize again for a new one";
    static final int PARSE_ERROR = -32700;
    static final int INVALID_REQUEST = -32600;
    private static final Logger log = LoggerFactory.getLogger(McpAuthFilter.class);

    private final HostPolicy hosts;
    private final BearerAuthenticator authenticator;
    private final String resourceMetadata;
    private final String challengeScope;
    private final java.util.function.Function<String, Set<String>> toolScopes;
    private final int maxBody;
    private final Set<String> endpointScopes;
    private final java.util.function.Predicate<AuthContext> admits;
    private final LegacySession.Codec sessions;
    private final String path;
    private final ServerStreams streams;

    McpAuthFilter(HostPolicy hosts, BearerAuthenticator authenticator, String resourceMetadata, String challengeScope,
                  Map<String, Set<String>> toolScopes, int maxBody) {
        this(hosts, authenticator, resourceMetadata, challengeScope, Map.copyOf(toolScopes)::get, maxBody, null, null, null, null, null);
    }

    /**
     * @param toolScopes     tool name to the scopes a tools/call needs (null: none)
     * @param endpointScopes scopes every message needs (null or empty: none)
     * @param admits         who may use the endpoint at all (null: everyone authenticated)
     * @param sessions       opens the legacy era's {@code Mcp-Session-Id}s (null: no sessions, the header is ignored)
     * @param path           the endpoint's path, which a session id is bound to
     * @param streams        the GET streams of sessions (null: GET is 405)
     */
    McpAuthFilter(HostPolicy hosts, BearerAuthenticator authenticator, String resourceMetadata, String challengeScope,
                  java.util.function.Function<String, Set<String>> toolScopes, int maxBody, Set<String> endpointScopes,
                  java.util.function.Predicate<AuthContext> admits, LegacySession.Codec sessions, String path, ServerStreams streams) {
        this.sessions = sessions;
        this.path = path;
        this.streams = streams;
        this.hosts = hosts;
        this.authenticator = authenticator;
        this.resourceMetadata = resourceMetadata;
        this.challengeScope = challengeScope == null || challengeScope.isBlank() ? null : challengeScope;
        this.toolScopes = toolScopes;
        this.maxBody = maxBody;
        this.endpointScopes = endpointScopes == null ? Set.of() : Set.copyOf(endpointScopes);
        this.admits = admits;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse res = (HttpServletResponse) response;

        // 1. DNS rebinding: before authentication (see the class comment).
        if (!hosts.allowsHostOf(req)) {
            log.debug("/mcp refused: Host not allowed");
            refuse(req, res, 403, null, "forbidden", "Host header does not name this server");
            return;
        }
        if (!hosts.allowsOriginOf(req)) {
            log.debug("/mcp refused: Origin not allowed");
            refuse(req, res, 403, null, "forbidden", "Origin not allowed");
            return;
        }

        // 2. Authentication.
        AuthContext ctx = authenticate(req, res);
        if (ctx == null) return;
        req.setAttribute(AUTH_ATTRIBUTE, ctx);
        if (!endpointScopes.isEmpty() && !ctx.scopes().containsAll(endpointScopes)) {
            String scope = String.join(" ", endpointScopes);
            refuse(req, res, 403, Challenge.bearer().error("insufficient_scope").param("scope", scope).param("resource_metadata", resourceMetadata),
                    "insufficient_scope", "this MCP server needs the scope: " + scope);
            return;
        }
        if (admits != null && !admits.test(ctx)) {
            refuse(req, res, 403, null, "forbidden", "your account may not use this MCP server; ask its administrator");
            return;
        }

        // 3. POST; GET (a session's stream) and DELETE (a session's end) only with a session of this caller.
        if (!"POST".equals(req.getMethod())) {
            List<String> ids = sessions == null ? List.of() : RequestHeaders.of(req).values(LegacySession.HEADER);
            if (ids.isEmpty() || !("GET".equals(req.getMethod()) || "DELETE".equals(req.getMethod()))) {
                res.setHeader("Allow", sessions == null ? "POST" : "GET, POST, DELETE");
                refuse(req, res, 405, null, "method_not_allowed", sessions == null ? "this MCP endpoint accepts POST only (no SSE stream, no sessions)"
                        : "this MCP endpoint accepts POST, and GET or DELETE with the Mcp-Session-Id of an initialized session");
                return;
            }
            LegacySession session = ids.size() == 1 ? sessions.open(ids.get(0), ctx, path) : null;
            if (ids.size() > 1) {
                refuse(req, res, 400, null, "invalid_request", "the Mcp-Session-Id header is sent more than once");
                return;
            }
            if (session == null) {
                refuse(req, res, 404, null, "session_not_found", SESSION_NOT_FOUND);
                return;
            }
            if ("DELETE".equals(req.getMethod())) { // the session lives in its id only: nothing to end on the server
                res.setHeader("Allow", "GET, POST");
                refuse(req, res, 405, null, "method_not_allowed", "sessions of this server end on their own; there is nothing to delete (just stop using the id)");
                return;
            }
            if (streams == null || !session.elicitUrl()) {
                // the stream carries only notifications/elicitation/complete: a client that cannot be sent to a URL gets none, and
                // does not hold a stream whose reconnect after our restart would refresh its token a second time, racing its next POST
                res.setHeader("Allow", "POST");
                refuse(req, res, 405, null, "method_not_allowed", streams == null ? "this MCP endpoint offers no SSE stream"
                        : "this session's client declared no URL elicitation, and that is all this server would send on a stream");
                return;
            }
            String accept = String.join(",", RequestHeaders.of(req).values("Accept"));
            if (!accept.contains("text/event-stream")) {
                refuse(req, res, 406, null, "not_acceptable", "the Accept header must list text/event-stream to open the session's stream");
                return;
            }
            req.setAttribute(STREAM_ATTRIBUTE, session);
            chain.doFilter(req, res);
            return;
        }

        // 4. One bounded JSON-RPC message.
        if (!Web.hasMediaType(req.getContentType(), Web.JSON)) {
            refuseJsonRpc(req, res, 415, INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json");
            return;
        }
        byte[] body;
        try {
            body = Bodies.read(req, maxBody, OAuthError.INVALID_REQUEST); // drained when too large
        } catch (OAuthError e) {
            Web.oauthError(req, res, e);
            return;
        }
        JsonNode message;
        try {
            message = Json.MAPPER.readTree(body);
        } catch (IOException | RuntimeException e) {
            refuseJsonRpc(req, res, 400, PARSE_ERROR, "Parse error");
            return;
        }
        String invalid = JsonRpcShape.problem(message);
        if (invalid != null) {
            JsonNode id = message != null && message.isObject() ? message.get("id") : null; // echoed when it is a valid id
            refuseJsonRpc(req, res, 400, id, INVALID_REQUEST, invalid);
            return;
        }

        // 5. Its era, and the headers and _meta that era requires.
        RequestHeaders headers = RequestHeaders.of(req);
        EraRouter.Decision decision = EraRouter.route(message, headers);
        if (decision instanceof EraRouter.Refusal refusal) {
            Web.noStore(res);
            McpServlet.write(res, refusal.reply());
            return;
        }
        EraRouter.Route route = (EraRouter.Route) decision;

        // 5b. Legacy: the session the request names (initialize starts a new one: a header there is ignored).
        LegacySession session = null;
        String version = route.protocolVersion();
        if (route.era() == Era.LEGACY && sessions != null && !"initialize".equals(message.path("method").asText())) {
            List<String> ids = headers.values(LegacySession.HEADER);
            if (ids.size() > 1) {
                refuseJsonRpc(req, res, 400, message.get("id"), INVALID_REQUEST, "the Mcp-Session-Id header is sent more than once");
                return;
            }
            if (ids.size() == 1) {
                session = sessions.open(ids.get(0), ctx, path);
                if (session == null) {
                    refuseJsonRpc(req, res, 404, message.get("id"), INVALID_REQUEST, SESSION_NOT_FOUND);
                    return;
                }
                // no MCP-Protocol-Version header: the version negotiated in the session's initialize (basic/transports)
                if (headers.values(EraRouter.PROTOCOL_VERSION_HEADER).isEmpty()) version = session.protocolVersion();
            }
        }

        // 6. A tool call's scopes.
        Set<String> needed = scopesNeeded(message);
        if (needed != null && !ctx.scopes().containsAll(needed)) {
            String scope = String.join(" ", needed);
            refuse(req, res, 403, Challenge.bearer().error("insufficient_scope").param("scope", scope).param("resource_metadata", resourceMetadata),
                    "insufficient_scope", "this tool needs the scope: " + scope);
            return;
        }
        McpCall.ConnectWatch watch = session == null || streams == null ? null : streams.watch(ctx.userId(), session.id());
        ClientLink link = route.era() == Era.MODERN && message.hasNonNull("id") && "tools/call".equals(message.path("method").asText()) ? new ClientLink() : null;
        req.setAttribute(CALL_ATTRIBUTE, new McpCall(route.era(), version, message, ctx, headers, session, watch, link));
        SafeJsonMapper.REQUEST_ID.set(message.get("id")); // an error the SDK writes names the request
        try {
            chain.doFilter(new CachedBodyRequest(req, body), res);
        } finally {
            SafeJsonMapper.REQUEST_ID.remove();
        }
    }

    /** The caller, or null once a 401/400/503 has been sent. */
    private AuthContext authenticate(HttpServletRequest req, HttpServletResponse res) throws IOException {
        BearerToken bearer = BearerToken.of(req);
        boolean queryToken = BearerToken.inQuery(req.getQueryString(), "access_token");
        if (bearer.status() == BearerToken.Status.REPEATED) {
            refuse(req, res, 400, challenge("invalid_request"), "invalid_request", "more than one Authorization header");
            return null;
        }
        if (bearer.status() == BearerToken.Status.ABSENT) {
            refuse(req, res, 401, challenge(null), "unauthorized",
                    queryToken ? "access tokens are accepted only in the Authorization header" : "a bearer token is required");
            return null;
        }
        if (queryToken) {
            refuse(req, res, 400, challenge("invalid_request"), "invalid_request",
                    "access tokens are accepted only in the Authorization header, not in the query");
            return null;
        }
        if (bearer.status() == BearerToken.Status.OTHER_SCHEME) {
            refuse(req, res, 401, challenge(null), "unauthorized", "a bearer token is required");
            return null;
        }
        if (!bearer.b64token()) {
            refuse(req, res, 401, challenge("invalid_token"), "invalid_token", "the access token is malformed");
            return null;
        }
        AuthContext ctx;
        try {
            ctx = authenticator.authenticate(bearer.token());
        } catch (RuntimeException e) {
            log.warn("/mcp: token check failed: {}", e.toString());
            refuse(req, res, 503, null, "temporarily_unavailable", "the token could not be checked; try again");
            return null;
        }
        if (ctx == null) {
            refuse(req, res, 401, challenge("invalid_token"), "invalid_token", "the access token is invalid, expired or revoked");
            return null;
        }
        return ctx;
    }

    /** {@code Bearer [error="..", ]resource_metadata="..", scope=".."}. */
    private Challenge challenge(String error) {
        return Challenge.bearer().error(error).param("resource_metadata", resourceMetadata).param("scope", challengeScope);
    }

    /** The scopes a {@code tools/call} of a known tool needs; null for any other message. */
    private Set<String> scopesNeeded(JsonNode message) {
        if (!"tools/call".equals(message.path("method").asText(null))) return null;
        JsonNode name = message.path("params").path("name");
        return name.isTextual() ? toolScopes.apply(name.asText()) : null;
    }

    /**
     * Answers early, after reading and discarding what is left of the body (bounded), so that a client still sending
     * sees the answer instead of a reset connection, and a keep-alive connection stays usable.
     */
    private static void refuse(HttpServletRequest req, HttpServletResponse res, int status, Challenge challenge, String error,
                               String description) throws IOException {
        Bodies.drain(req);
        if (challenge != null) challenge.to(res);
        Web.error(req, res, status, error, description);
    }

    private static void refuseJsonRpc(HttpServletRequest req, HttpServletResponse res, int status, int code, String message) throws IOException {
        refuseJsonRpc(req, res, status, null, code, message);
    }

    /** @param id the request's id when it could be read (a string or a number is echoed), else null */
    private static void refuseJsonRpc(HttpServletRequest req, HttpServletResponse res, int status, JsonNode id, int code, String message)
            throws IOException {
        Bodies.drain(req);
        Web.noStore(res);
        Web.json(res, status, SafeJsonMapper.jsonRpcErrorBytes(id, code, message));
    }
}
