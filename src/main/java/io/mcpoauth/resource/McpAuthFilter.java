package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.Json;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in front of the SDK servlet on {@code /mcp}, in this order:
 * <ol>
 *   <li>{@code Host}, then {@code Origin} against {@link HostPolicy}: 403. First, so a DNS-rebinding page learns
 *       nothing (not even the 401 challenge) and no token is looked at for a request that is not for us.</li>
 *   <li>Bearer token from the {@code Authorization} header only (scheme case-insensitive; {@code ?access_token=} is
 *       never accepted): 401 with a {@code WWW-Authenticate} challenge naming the protected resource metadata.</li>
 *   <li>Methods other than POST: 405 (we serve no SSE stream and no sessions).</li>
 *   <li>{@code MCP-Protocol-Version}, when sent, must be a supported version: 400 with a JSON-RPC error (carrying
 *       the request's id when the body can be read).</li>
 *   <li>The JSON body is read once (bounded: 413 above the limit), must be one JSON-RPC request or notification
 *       ({@link JsonRpcShape}; 400 with a JSON-RPC error otherwise: no batches), and, for {@code tools/call}, the
 *       tool's required scopes are checked: 403 {@code insufficient_scope} naming them. The body is then replayed
 *       to the SDK.</li>
 * </ol>
 * The caller's {@link AuthContext} is left in the request attribute {@link #AUTH_ATTRIBUTE}.
 * Every error body here is a small JSON object; none carries a stack trace.
 */
final class McpAuthFilter implements Filter {
    static final String AUTH_ATTRIBUTE = AuthContext.class.getName();
    static final int MAX_TOKEN_LENGTH = 4096;
    /** How much of an oversized body is read and thrown away before the 413, so that the client sees it. */
    static final long DRAIN_LIMIT = 8L * 1024 * 1024;
    static final int PARSE_ERROR = -32700;
    static final int INVALID_REQUEST = -32600;
    private static final Pattern B64TOKEN = Pattern.compile("[A-Za-z0-9\\-._~+/]+=*");
    private static final Logger log = LoggerFactory.getLogger(McpAuthFilter.class);

    private final HostPolicy hosts;
    private final BearerAuthenticator authenticator;
    private final String resourceMetadata;
    private final String challengeScope;
    private final Map<String, Set<String>> toolScopes;
    private final List<String> protocolVersions;
    private final int maxBody;

    McpAuthFilter(HostPolicy hosts, BearerAuthenticator authenticator, String resourceMetadata, String challengeScope,
                  Map<String, Set<String>> toolScopes, List<String> protocolVersions, int maxBody) {
        this.hosts = hosts;
        this.authenticator = authenticator;
        this.resourceMetadata = resourceMetadata;
        this.challengeScope = challengeScope == null || challengeScope.isBlank() ? null : challengeScope;
        this.toolScopes = Map.copyOf(toolScopes);
        this.protocolVersions = List.copyOf(protocolVersions);
        this.maxBody = maxBody;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse res = (HttpServletResponse) response;

        // 1. DNS rebinding: before authentication (see the class comment).
        if (!hosts.hostAllowed(singleHeader(req, "Host"))) {
            log.debug("/mcp refused: Host not allowed");
            refuse(req, res, 403, null, "forbidden", "Host header does not name this server");
            return;
        }
        List<String> origins = Collections.list(req.getHeaders("Origin"));
        if (origins.size() > 1 || origins.size() == 1 && !hosts.originAllowed(origins.get(0))) {
            log.debug("/mcp refused: Origin not allowed");
            refuse(req, res, 403, null, "forbidden", "Origin not allowed");
            return;
        }

        // 2. Authentication.
        AuthContext ctx = authenticate(req, res);
        if (ctx == null) return;
        req.setAttribute(AUTH_ATTRIBUTE, ctx);

        // 3. Only POST: no SSE stream, no sessions to delete.
        if (!"POST".equals(req.getMethod())) {
            res.setHeader("Allow", "POST");
            refuse(req, res, 405, null, "method_not_allowed", "this MCP endpoint accepts POST only (no SSE stream, no sessions)");
            return;
        }

        // 4. MCP-Protocol-Version: absent is tolerated (initialize, older clients); unsupported is a 400, answered
        // once the body is read so that the error names the request's id.
        String version = req.getHeader("MCP-Protocol-Version");
        String badVersion = version != null && !protocolVersions.contains(version.trim())
                ? "Unsupported MCP-Protocol-Version (supported: " + String.join(", ", protocolVersions) + ")" : null;

        if (!isJson(req.getContentType())) {
            if (badVersion != null) {
                refuseJsonRpc(req, res, 400, null, INVALID_REQUEST, badVersion);
                return;
            }
            chain.doFilter(req, res); // the SDK answers 415 (through the safe mapper)
            return;
        }

        // 5. Read the body once, bounded; check it is one JSON-RPC message; check a tool call's scopes; replay.
        long declared = req.getContentLengthLong();
        byte[] body = declared > maxBody ? null : declared >= 0 ? req.getInputStream().readNBytes((int) declared)
                : readBounded(req.getInputStream(), maxBody);
        if (body == null) {
            refuse(req, res, 413, null, "invalid_request", "request body larger than " + maxBody + " bytes");
            return;
        }
        JsonNode message;
        try {
            message = Json.MAPPER.readTree(body);
        } catch (IOException | RuntimeException e) {
            refuseJsonRpc(req, res, 400, null, badVersion != null ? INVALID_REQUEST : PARSE_ERROR, badVersion != null ? badVersion : "Parse error");
            return;
        }
        JsonNode id = message != null && message.isObject() ? message.get("id") : null;
        if (badVersion != null) {
            refuseJsonRpc(req, res, 400, id, INVALID_REQUEST, badVersion);
            return;
        }
        String invalid = JsonRpcShape.problem(message);
        if (invalid != null) {
            refuseJsonRpc(req, res, 400, id, INVALID_REQUEST, invalid);
            return;
        }
        Set<String> needed = scopesNeeded(message);
        if (needed != null && !ctx.scopes().containsAll(needed)) {
            String scope = String.join(" ", needed);
            refuse(req, res, 403,
                    "Bearer error=\"insufficient_scope\", scope=\"" + scope + "\", resource_metadata=\"" + resourceMetadata + "\"",
                    "insufficient_scope", "this tool needs the scope: " + scope);
            return;
        }
        SafeJsonMapper.REQUEST_ID.set(id);
        try {
            chain.doFilter(new CachedBodyRequest(req, body), new UnflushedResponse(res));
        } finally {
            SafeJsonMapper.REQUEST_ID.remove();
        }
    }

    /**
     * The SDK writes its JSON answer and then flushes the writer, which commits the response in chunked encoding and
     * costs a second write for the final chunk. Without that flush Jetty sends the whole answer at once, with a
     * Content-Length, when the (synchronous) request completes.
     */
    static final class UnflushedResponse extends HttpServletResponseWrapper {
        private PrintWriter writer;

        UnflushedResponse(HttpServletResponse res) {
            super(res);
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            if (writer == null) {
                writer = new PrintWriter(super.getWriter()) {
                    @Override
                    public void flush() {
                        // sent when the request completes
                    }
                };
            }
            return writer;
        }
    }

    /** The caller, or null once a 401/400/503 has been sent. */
    private AuthContext authenticate(HttpServletRequest req, HttpServletResponse res) throws IOException {
        List<String> headers = Collections.list(req.getHeaders("Authorization"));
        boolean queryToken = hasQueryParameter(req.getQueryString(), "access_token");
        if (headers.size() > 1) {
            refuse(req, res, 400, challenge("invalid_request"), "invalid_request", "more than one Authorization header");
            return null;
        }
        String header = headers.isEmpty() ? null : headers.get(0).trim();
        if (header == null || header.isEmpty()) {
            refuse(req, res, 401, challenge(null), "unauthorized",
                    queryToken ? "access tokens are accepted only in the Authorization header" : "a bearer token is required");
            return null;
        }
        if (queryToken) {
            refuse(req, res, 400, challenge("invalid_request"), "invalid_request",
                    "access tokens are accepted only in the Authorization header, not in the query");
            return null;
        }
        int space = indexOfWhitespace(header);
        String scheme = space < 0 ? header : header.substring(0, space);
        if (!scheme.equalsIgnoreCase("Bearer")) {
            refuse(req, res, 401, challenge(null), "unauthorized", "a bearer token is required");
            return null;
        }
        String token = space < 0 ? "" : header.substring(space + 1).trim();
        if (token.isEmpty() || token.length() > MAX_TOKEN_LENGTH || !B64TOKEN.matcher(token).matches()) {
            refuse(req, res, 401, challenge("invalid_token"), "invalid_token", "the access token is malformed");
            return null;
        }
        AuthContext ctx;
        try {
            ctx = authenticator.authenticate(token);
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
    private String challenge(String error) {
        StringBuilder b = new StringBuilder("Bearer ");
        if (error != null) b.append("error=\"").append(error).append("\", ");
        b.append("resource_metadata=\"").append(resourceMetadata).append('"');
        if (challengeScope != null) b.append(", scope=\"").append(challengeScope).append('"');
        return b.toString();
    }

    /** The scopes a {@code tools/call} of a known tool needs; null for any other message. */
    private Set<String> scopesNeeded(JsonNode message) {
        if (!"tools/call".equals(message.path("method").asText(null))) return null;
        JsonNode name = message.path("params").path("name");
        return name.isTextual() ? toolScopes.get(name.asText()) : null;
    }

    private static void drain(InputStream in, long limit) {
        byte[] buf = new byte[8192];
        long total = 0;
        try {
            for (int n; total < limit && (n = in.read(buf)) != -1; ) total += n;
        } catch (IOException e) {
            // the client went away; nothing to answer
        }
    }

    private static byte[] readBounded(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 8192));
        byte[] buf = new byte[8192];
        int total = 0;
        for (int n; (n = in.read(buf)) != -1; ) {
            total += n;
            if (total > max) return null;
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    static boolean hasQueryParameter(String query, String name) {
        if (query == null || query.isEmpty()) return false;
        for (String part : query.split("[&;]")) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            try {
                key = URLDecoder.decode(key, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                // keep the raw name
            }
            if (key.trim().equalsIgnoreCase(name)) return true;
        }
        return false;
    }

    private static String singleHeader(HttpServletRequest req, String name) {
        List<String> values = Collections.list(req.getHeaders(name));
        return values.size() == 1 ? values.get(0) : null;
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') return i;
        }
        return -1;
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().equalsIgnoreCase("application/json");
    }

    /**
     * Answers early, after reading and discarding what is left of the body (bounded), so that a client still sending
     * sees the answer instead of a reset connection, and a keep-alive connection stays usable.
     */
    private static void refuse(HttpServletRequest req, HttpServletResponse res, int status, String challenge, String error,
                               String description) throws IOException {
        drain(req.getInputStream(), DRAIN_LIMIT);
        sendError(res, status, challenge, error, description);
    }

    /** @param id the request's id when it could be read, else null ({@code "id": null}) */
    private static void refuseJsonRpc(HttpServletRequest req, HttpServletResponse res, int status, JsonNode id, int code, String message)
            throws IOException {
        drain(req.getInputStream(), DRAIN_LIMIT);
        sendJsonRpcError(res, status, id, code, message);
    }

    static void sendError(HttpServletResponse res, int status, String challenge, String error, String description) throws IOException {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("error_description", description);
        if (challenge != null) res.setHeader("WWW-Authenticate", challenge);
        write(res, status, Json.MAPPER.writeValueAsBytes(body));
    }

    static void sendJsonRpcError(HttpServletResponse res, int status, JsonNode id, int code, String message) throws IOException {
        write(res, status, SafeJsonMapper.jsonRpcErrorBytes(id, code, message));
    }

    private static void write(HttpServletResponse res, int status, byte[] bytes) throws IOException {
        res.setStatus(status);
        res.setHeader("Cache-Control", "no-store");
        res.setContentType("application/json");
        res.setCharacterEncoding("UTF-8");
        res.setContentLength(bytes.length);
        res.getOutputStream().write(bytes);
    }
}
