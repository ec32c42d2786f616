package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.config.McpServers;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Streamable HTTP upstream, spoken to in the legacy era: {@code initialize} + {@code notifications/initialized}
 * once per (server, user), the {@code Mcp-Session-Id} it hands out kept here (never shown to clients) and re-created
 * transparently when the upstream forgets it (404, or a 400 that names the session, as after its restart). Each POST
 * accepts JSON and SSE; an SSE answer is read event by event until the response to our request arrives (notifications
 * before it are skipped). Every body is bounded, every wait ends at the call's deadline.
 */
final class HttpUpstream implements Upstream {
    private static final Logger log = LoggerFactory.getLogger(HttpUpstream.class);
    static final String PROTOCOL_VERSION = "2025-11-25";
    static final int MAX_BODY = 8 * 1024 * 1024;
    static final int MAX_SESSIONS = 10_000;

    private final McpServers.Entry entry;
    private final IdentityAssertions identity;
    private final URI url;
    private final Http1Client client;
    private final ScheduledExecutorService timer;
    private final String clientVersion;
    private final AtomicLong ids = new AtomicLong();
    /** (user) to session, least recently used first; bounded. */
    private final Map<String, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);
    private volatile String negotiated;

    private record Session(String id, String version) {}

    HttpUpstream(McpServers.Entry entry, IdentityAssertions identity, Http1Client client, ScheduledExecutorService timer, String clientVersion) {
        this.entry = entry;
        this.url = URI.create(entry.url());
        this.identity = identity;
        this.client = client;
        this.timer = timer;
        this.clientVersion = clientVersion;
    }

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline) throws UpstreamException {
        return request(caller, method, params, deadline, null);
    }

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress)
            throws UpstreamException {
        return request(caller, method, params, deadline, progress, null);
    }

    private final ThreadLocal<Cancellation> cancellation = new ThreadLocal<>();

    @Override
    public JsonNode request(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress,
                            Cancellation cancel) throws UpstreamException {
        cancellation.set(cancel);
        try {
            return send(caller, method, params, deadline, progress);
        } finally {
            cancellation.remove();
        }
    }

    private JsonNode send(AuthContext caller, String method, JsonNode params, Instant deadline, java.util.function.Consumer<JsonNode> progress)
            throws UpstreamException {
        Map<String, String> headers = Headers.forCall(entry, identity, caller);
        Boolean era = modern;
        if (era == null) era = probe(headers, deadline);
        if (era) {
            try {
                return modernExchange(headers, method, params, deadline, progress);
            } catch (EraRefused e) {
                modern = null; // the upstream no longer speaks 2026-07-28 (replaced by an older one?): probe again, then legacy
                if (probe(headers, deadline)) throw new UpstreamException("the upstream server " + entry.name() + " refused the protocol version it offers");
            }
        }
        String key = caller.userId();
        Session s = session(key, headers, deadline);
        try {
            return post(s, headers, method, params, deadline, progress);
        } catch (SessionGone gone) {
            synchronized (sessions) {
                if (sessions.get(key) == s) sessions.remove(key);
            }
            log.info("upstream {}: session forgotten by the upstream, starting a new one", entry.name());
            Session fresh = session(key, headers, deadline);
            try {
                return post(fresh, headers, method, params, deadline, progress);
            } catch (SessionGone again) {
                throw new UpstreamException("the upstream server " + entry.name() + " keeps forgetting its session");
            }
        }
    }

    // ---- the 2026-07-28 era towards an upstream that offers it ----

    static final String MODERN_VERSION = "2026-07-28";
    /** Whether the upstream speaks 2026-07-28 (null: not probed yet, or to probe again). */
    private volatile Boolean modern;

    private static final class EraRefused extends Exception {
        EraRefused() {
            super(null, null, false, false);
        }
    }

    /**
     * Asks the upstream {@code server/discover} in 2026-07-28 once: a result listing that version means modern; an
     * HTTP 400/404/405, -32022, -32601 or anything else means legacy. Remembered; a failure to reach it is not.
     */
    private boolean probe(Map<String, String> headers, Instant deadline) throws UpstreamException {
        boolean result;
        try {
            JsonNode r = modernExchange(headers, "server/discover", null, deadline.isAfter(Instant.now().plusSeconds(10)) ? Instant.now().plusSeconds(10) : deadline, null);
            result = false;
            for (JsonNode v : r.path("supportedVersions")) if (MODERN_VERSION.equals(v.asText())) result = true;
        } catch (EraRefused e) {
            result = false;
        } catch (UpstreamException e) {
            if (e.rpcError() == null && e.getMessage() != null && (e.getMessage().contains("cannot be reached") || e.getMessage().contains("did not answer"))) throw e;
            result = false;
        }
        modern = result;
        if (result) negotiated = MODERN_VERSION;
        log.info("upstream {}: speaks {}", entry.name(), result ? MODERN_VERSION + " (stateless)" : "the legacy era");
        return result;
    }

    /** One stateless 2026-07-28 request: {@code _meta} with our version, capabilities and info, the mirrored headers. */
    private JsonNode modernExchange(Map<String, String> headers, String method, JsonNode params, Instant deadline,
                                    java.util.function.Consumer<JsonNode> progress) throws UpstreamException, EraRefused {
        Duration left = Duration.between(Instant.now(), deadline);
        if (left.isNegative() || left.isZero()) throw timedOut();
        ObjectNode p = params instanceof ObjectNode o ? o.deepCopy() : Json.MAPPER.createObjectNode();
        ObjectNode meta = p.path("_meta").isObject() ? (ObjectNode) p.get("_meta") : p.putObject("_meta");
        meta.put("io.modelcontextprotocol/protocolVersion", MODERN_VERSION);
        meta.putObject("io.modelcontextprotocol/clientCapabilities").putObject("elicitation").putObject("form");
        meta.putObject("io.modelcontextprotocol/clientInfo").put("name", "mcp-oauth-server-gateway").put("version", clientVersion);
        long id = ids.incrementAndGet();
        ObjectNode msg = Json.MAPPER.createObjectNode();
        msg.put("jsonrpc", "2.0");
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", p);
        Map<String, String> h = requestHeaders(headers);
        h.put("MCP-Protocol-Version", MODERN_VERSION);
        h.put("Mcp-Method", method);
        String nameKey = switch (method) {
            case "tools/call", "prompts/get" -> "name";
            case "resources/read" -> "uri";
            default -> null;
        };
        if (nameKey != null && p.path(nameKey).isTextual()) h.put("Mcp-Name", headerValue(p.get(nameKey).asText()));
        Http1Client.Response res = send(h, msg, deadline);
        InputStream body = res.body();
        ScheduledFuture<?> watchdog = timer.schedule(() -> closeQuietly(body), Math.max(1, Duration.between(Instant.now(), deadline).toMillis()),
                TimeUnit.MILLISECONDS);
        Cancellation cancel = cancellation.get();
        if (cancel != null) cancel.onCancel(() -> closeQuietly(body)); // stateless: closing the answer is the cancellation
        try {
            int status = res.status();
            String type = contentType(res);
            JsonNode response;
            try {
                response = type.startsWith("text/event-stream") ? fromEvents(body, id, progress, null, headers, null) : single(body, type, status);
            } catch (IOException e) {
                if (cancel != null && cancel.cancelled()) throw new UpstreamException("the call was cancelled by the client");
                if (e instanceof SocketTimeoutException || Instant.now().plusMillis(100).isAfter(deadline)) throw timedOut(); // the read timeout or the watchdog
                throw new UpstreamException("the upstream server " + entry.name() + " broke off its answer (" + e.getClass().getSimpleName() + ")");
            }
            int code = response == null ? 0 : response.path("error").path("code").asInt(0);
            if (code == -32022 || ("server/discover".equals(method) && (status == 404 || status == 405 || status == 400 || code == -32601 || response == null))) {
                throw new EraRefused();
            }
            if (response == null) {
                if (status == 401 || status == 403) {
                    throw new UpstreamException("the upstream server " + entry.name() + " refused the gateway's credentials (HTTP " + status + ")");
                }
                throw new UpstreamException("the upstream server " + entry.name() + " answered HTTP " + status + " without an MCP response");
            }
            JsonNode error = response.get("error");
            if (error != null && error.isObject()) throw new UpstreamException(error);
            JsonNode result = response.get("result");
            if (result == null || !result.isObject()) throw garbage();
            return result;
        } finally {
            watchdog.cancel(false);
            closeQuietly(body);
        }
    }

    /** A header value as 2026-07-28 carries it: as is when plain printable ASCII, else the =?base64?...?= form. */
    static String headerValue(String v) {
        boolean plain = !v.isEmpty() && v.chars().allMatch(c -> c >= 0x20 && c < 0x7f) && v.equals(v.strip()) && !v.startsWith("=?");
        return plain ? v : "=?base64?" + java.util.Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)) + "?=";
    }

    private Session session(String key, Map<String, String> headers, Instant deadline) throws UpstreamException {
        synchronized (sessions) {
            Session s = sessions.get(key);
            if (s != null) return s;
        }
        ObjectNode params = Json.MAPPER.createObjectNode();
        params.put("protocolVersion", PROTOCOL_VERSION);
        params.putObject("capabilities").putObject("elicitation"); // relayed to the calling client during a tools/call
        params.putObject("clientInfo").put("name", "mcp-oauth-server-gateway").put("version", clientVersion);
        Exchange init;
        try {
            init = exchange(null, headers, "initialize", params, deadline, true, null);
        } catch (SessionGone e) {
            throw new UpstreamException("the upstream server " + entry.name() + " refused to start a session");
        }
        String version = init.result.path("protocolVersion").asText(PROTOCOL_VERSION);
        Session s = new Session(init.sessionId, version);
        negotiated = version;
        try {
            exchange(s, headers, "notifications/initialized", null, deadline, false, null);
        } catch (SessionGone e) {
            throw new UpstreamException("the upstream server " + entry.name() + " forgot its session at once");
        }
        synchronized (sessions) {
            sessions.put(key, s);
            while (sessions.size() > MAX_SESSIONS) {
                String oldest = sessions.keySet().iterator().next();
                sessions.remove(oldest);
            }
        }
        return s;
    }

    private JsonNode post(Session s, Map<String, String> headers, String method, JsonNode params, Instant deadline,
                          java.util.function.Consumer<JsonNode> progress) throws UpstreamException, SessionGone {
        return exchange(s, headers, method, params, deadline, true, progress).result;
    }

    private record Exchange(JsonNode result, String sessionId) {}

    private static final class SessionGone extends Exception {
        SessionGone() {
            super(null, null, false, false);
        }
    }

    private Exchange exchange(Session s, Map<String, String> headers, String method, JsonNode params, Instant deadline, boolean request,
                              java.util.function.Consumer<JsonNode> progress) throws UpstreamException, SessionGone {
        Duration left = Duration.between(Instant.now(), deadline);
        if (left.isNegative() || left.isZero()) throw timedOut();
        ObjectNode msg = Json.MAPPER.createObjectNode();
        msg.put("jsonrpc", "2.0");
        long id = ids.incrementAndGet();
        if (request) msg.put("id", id);
        msg.put("method", method);
        if (params != null && !params.isMissingNode() && !params.isNull()) msg.set("params", params);
        Http1Client.Response res = send(sessionHeaders(s, headers), msg, deadline);
        InputStream body = res.body();
        boolean drainLater = false;
        Cancellation cancel = request && !"initialize".equals(method) ? cancellation.get() : null;
        if (cancel != null) {
            Session session = s;
            cancel.onCancel(() -> {
                ObjectNode p = Json.MAPPER.createObjectNode().put("requestId", id).put("reason", "cancelled by the client");
                timer.execute(() -> {
                    try {
                        exchange(session, headers, "notifications/cancelled", p, Instant.now().plusSeconds(5), false, null);
                    } catch (UpstreamException | SessionGone ignored) {
                        // best effort: the upstream may have finished already
                    }
                });
                closeQuietly(body);
            });
        }
        ScheduledFuture<?> watchdog = timer.schedule(() -> closeQuietly(body), Math.max(1, Duration.between(Instant.now(), deadline).toMillis()),
                TimeUnit.MILLISECONDS);
        try {
            int status = res.status();
            String sessionId = res.header("Mcp-Session-Id") != null ? res.header("Mcp-Session-Id") : s == null ? null : s.id;
            if (status == 404 && s != null && s.id != null) {
                drain(body);
                throw new SessionGone();
            }
            if (!request) {
                drain(body);
                if (status >= 300) throw new UpstreamException("the upstream server " + entry.name() + " refused the notification (HTTP " + status + ")");
                return new Exchange(null, sessionId);
            }
            String type = contentType(res);
            JsonNode response;
            try {
                boolean events = type.startsWith("text/event-stream");
                response = events
                        ? fromEvents(body, id, progress, s, headers, cancel == null ? null : cancel.serverRequests())
                        : single(body, type, status);
                // the upstream ends a POST's event stream right after the response: read that end, so the connection
                // goes back to the pool instead of being torn down (closing a body before its end closes the connection)
                if (events && response != null) drainLater = true;
            } catch (IOException e) {
                if (cancel != null && cancel.cancelled()) throw new UpstreamException("the call was cancelled by the client");
                if (e instanceof SocketTimeoutException || Instant.now().plusMillis(100).isAfter(deadline)) throw timedOut(); // the read timeout or the watchdog
                throw new UpstreamException("the upstream server " + entry.name() + " broke off its answer (" + e.getClass().getSimpleName() + ")");
            }
            if (response == null) {
                if (status == 401 || status == 403) {
                    throw new UpstreamException("the upstream server " + entry.name() + " refused the gateway's credentials (HTTP " + status + ")");
                }
                throw new UpstreamException("the upstream server " + entry.name() + " answered HTTP " + status + " without an MCP response");
            }
            JsonNode error = response.get("error");
            if (error != null && error.isObject()) {
                if (s != null && s.id != null && status == 400 && error.path("message").asText("").toLowerCase(Locale.ROOT).contains("session")) {
                    throw new SessionGone();
                }
                throw new UpstreamException(error);
            }
            JsonNode result = response.get("result");
            if (result == null || !result.isObject()) throw garbage();
            return new Exchange(result, sessionId);
        } finally {
            watchdog.cancel(false);
            if (drainLater) drainThenClose(body, timer);
            else closeQuietly(body);
        }
    }

    /** Reads what is left of an answered event stream to its end (bounded: 64 KiB, {@value #DRAIN_MILLIS} ms), then closes it, off the caller's thread. */
    private static void drainThenClose(InputStream body, ScheduledExecutorService timer) {
        try {
            DRAINER.execute(() -> {
                ScheduledFuture<?> cap = timer.schedule(() -> closeQuietly(body), DRAIN_MILLIS, TimeUnit.MILLISECONDS);
                try {
                    byte[] buf = new byte[4096];
                    long left = 64 * 1024;
                    for (int n; left > 0 && (n = body.read(buf)) >= 0;) left -= n;
                } catch (IOException ignored) {
                    // closed by the cap, or the upstream went away: nothing to keep
                } finally {
                    cap.cancel(false);
                    closeQuietly(body);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException busy) {
            closeQuietly(body);
        }
    }

    private static final long DRAIN_MILLIS = 2_000;
    /** Bounded: 4 threads, 256 waiting; beyond that the stream is just closed (the connection is then not reused). */
    private static final java.util.concurrent.ExecutorService DRAINER = drainer();

    private static java.util.concurrent.ExecutorService drainer() {
        java.util.concurrent.ThreadPoolExecutor e = new java.util.concurrent.ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(256), r -> {
                    Thread t = new Thread(r, "mcp-gateway-drain");
                    t.setDaemon(true);
                    return t;
                });
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /** A JSON body: one JSON-RPC response; null when it is not one (an HTTP error page). */
    private JsonNode single(InputStream body, String type, int status) throws IOException, UpstreamException {
        byte[] bytes = readBounded(body);
        if (!type.startsWith("application/json")) return null;
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n == null || !n.isObject() || !(n.has("result") || n.has("error"))) {
                if (status >= 400) return null;
                throw garbage();
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            if (status >= 400) return null;
            throw garbage();
        }
    }

    /**
     * Reads SSE events until the response with {@code id}; progress notifications before it go to {@code progress}
     * (when given), other notifications and the upstream's own requests are skipped.
     */
    private JsonNode fromEvents(InputStream body, long id, java.util.function.Consumer<JsonNode> progress, Session s, Map<String, String> headers,
                                Cancellation.ServerRequests serverRequests) throws IOException, UpstreamException {
        Sse sse = new Sse(new java.io.BufferedInputStream(body), MAX_BODY);
        String data;
        while ((data = sse.next()) != null) {
            if (data.isBlank()) continue;
            JsonNode n;
            try {
                n = Json.MAPPER.readTree(data);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw garbage();
            }
            if (n != null && n.isObject() && (n.has("result") || n.has("error")) && n.path("id").asLong(-1) == id) return n;
            if (n != null && n.isObject() && n.path("method").isTextual() && n.hasNonNull("id")) {
                serverRequest(n, s, headers, serverRequests);
                continue;
            }
            if (progress != null && n != null && "notifications/progress".equals(n.path("method").asText()) && !n.has("id")) progress.accept(n);
        }
        return null;
    }

    /**
     * The upstream asked us something during a call: ping is answered here; any other request goes to the call's
     * {@code handler} (which relays it to the client), or is refused (-32601) when there is none.
     */
    private void serverRequest(JsonNode request, Session s, Map<String, String> headers, Cancellation.ServerRequests handler) {
        java.util.function.Consumer<JsonNode> respond = response -> {
            ObjectNode msg = Json.MAPPER.createObjectNode();
            msg.put("jsonrpc", "2.0");
            msg.set("id", request.get("id"));
            if (response.has("error")) msg.set("error", response.get("error"));
            else msg.set("result", response.path("result").isObject() ? response.get("result") : Json.MAPPER.createObjectNode());
            postResponse(s, headers, msg);
        };
        String method = request.path("method").asText();
        if ("ping".equals(method)) {
            respond.accept(Json.MAPPER.createObjectNode().set("result", Json.MAPPER.createObjectNode()));
        } else if (handler == null) {
            ObjectNode error = Json.MAPPER.createObjectNode();
            error.putObject("error").put("code", -32601).put("message", "The gateway does not relay " + method + " outside a tool call");
            respond.accept(error);
        } else {
            handler.request(request, respond);
        }
    }

    /** POSTs our response to one of the upstream's requests into its session (best effort, bounded to 10 s). */
    private void postResponse(Session s, Map<String, String> headers, JsonNode msg) {
        try {
            Http1Client.Response res = send(sessionHeaders(s, headers), msg, Instant.now().plusSeconds(10));
            try (InputStream body = res.body()) {
                drain(body);
            }
            if (res.status() >= 300) log.info("upstream {}: refused our response to its request (HTTP {})", entry.name(), res.status());
        } catch (UpstreamException | IOException e) {
            log.info("upstream {}: our response to its request failed ({})", entry.name(), e.getMessage());
        }
    }

    /** Our headers for every POST, then the call's ({@link Headers#forCall}). */
    private static Map<String, String> requestHeaders(Map<String, String> headers) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/json");
        h.put("Accept", "application/json, text/event-stream");
        h.putAll(headers);
        return h;
    }

    /** {@link #requestHeaders} plus the legacy session's version and id, when there is a session. */
    private static Map<String, String> sessionHeaders(Session s, Map<String, String> headers) {
        Map<String, String> h = requestHeaders(headers);
        if (s != null) {
            h.put("MCP-Protocol-Version", s.version);
            if (s.id != null) h.put("Mcp-Session-Id", s.id);
        }
        return h;
    }

    private static String contentType(Http1Client.Response res) {
        String type = res.header("Content-Type");
        return type == null ? "" : type.toLowerCase(Locale.ROOT);
    }

    private UpstreamException garbage() {
        return new UpstreamException("the upstream server " + entry.name() + " answered something that is not an MCP response");
    }

    private UpstreamException timedOut() {
        return new UpstreamException("the upstream server " + entry.name() + " did not answer within " + entry.timeout().toSeconds() + " s");
    }

    static byte[] readBounded(InputStream in) throws IOException, UpstreamException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            if (out.size() > MAX_BODY) throw new UpstreamException("the upstream's answer is larger than " + (MAX_BODY >> 20) + " MB");
        }
        return out.toByteArray();
    }

    private static void drain(InputStream in) {
        try {
            in.skip(64 * 1024);
        } catch (IOException ignored) {
            // closed below
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public String protocolVersion() {
        return negotiated;
    }

    @Override
    public int processes() {
        return 0;
    }

    @Override
    public void close() {
        synchronized (sessions) {
            sessions.clear();
        }
    }

    /** A minimal text/event-stream reader: the {@code data} of each event, bounded in total. */
    static final class Sse {
        private final InputStream in;
        private final int max;
        private int read;

        Sse(InputStream in, int max) {
            this.in = in;
            this.max = max;
        }

        /** The next event's data (its data lines joined by \n), or null at the end of the stream. */
        String next() throws IOException, UpstreamException {
            StringBuilder data = null;
            String line;
            while ((line = line()) != null) {
                if (line.isEmpty()) {
                    if (data != null) return data.toString();
                    continue;
                }
                if (line.startsWith(":")) continue;
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) value = value.substring(1);
                if (field.equals("data")) {
                    if (data == null) data = new StringBuilder();
                    else data.append('\n');
                    data.append(value);
                }
            }
            return data == null ? null : data.toString();
        }

        private String line() throws IOException, UpstreamException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            boolean any = false;
            while ((c = in.read()) >= 0) {
                any = true;
                if (++read > max) throw new UpstreamException("the upstream's answer is larger than " + (max >> 20) + " MB");
                if (c == '\n') break;
                if (c == '\r') continue;
                b.write(c);
            }
            if (!any) return null;
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    /** POSTs {@code msg}; a timeout, an unreachable upstream or a header that cannot be sent becomes an {@link UpstreamException}. */
    private Http1Client.Response send(Map<String, String> headers, JsonNode msg, Instant deadline) throws UpstreamException {
        try {
            return client.post(url, headers, Json.MAPPER.writeValueAsBytes(msg), deadline);
        } catch (SocketTimeoutException e) {
            throw timedOut();
        } catch (IllegalArgumentException e) {
            throw new UpstreamException("the gateway cannot call " + entry.name() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UpstreamException("the upstream server " + entry.name() + " cannot be reached (" + e.getClass().getSimpleName() + ")");
        }
    }
}
