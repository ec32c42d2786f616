package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.mcpoauth.TestClock;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.tools.BuiltInTools;
import io.mcpoauth.resource.tools.Notes;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** A real Javalin app on a loopback port with the MCP endpoint mounted, a real FileStore, and a map of test tokens. */
final class McpTestServer implements AutoCloseable {
    static final String ACCEPT = "application/json, text/event-stream";

    static final AuthContext ALICE = new AuthContext("local:alice", "alice", "local", "client-a", Set.of("mcp"), "grant-a");
    static final AuthContext BOB = new AuthContext("google:1234", "bob@example.com", "google", "client-b", Set.of("mcp"), "grant-b");
    static final AuthContext NOSCOPE = new AuthContext("local:carol", "carol", "local", "client-c", Set.of("other"), "grant-c");
    static final AuthContext ADMIN = new AuthContext("local:dave", "dave", "local", "client-d", Set.of("mcp", "admin", "notes:write"), "grant-d");

    static final Map<String, AuthContext> TOKENS = Map.of(
            "alice-token", ALICE,
            "bob-token", BOB,
            "noscope-token", NOSCOPE,
            "admin-token", ADMIN);

    final int port;
    final Settings settings;
    final FileStore store;
    final Notes notes;
    final McpEndpoint endpoint;
    final Javalin app;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    McpTestServer(Path dataDir) {
        this(dataDir, Map.of(), extra -> List.of());
    }

    McpTestServer(Path dataDir, Map<String, String> env, Function<Settings, List<McpTool>> extraTools) {
        this(dataDir, env, extraTools, config -> {});
    }

    McpTestServer(Path dataDir, Map<String, String> env, Function<Settings, List<McpTool>> extraTools,
                  java.util.function.Consumer<io.javalin.config.JavalinConfig> moreConfig) {
        this(dataDir, env, extraTools, moreConfig, KEY, new TestClock());
    }

    /** The requestState key of every test server unless a test passes another: the same across restarts. */
    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static final String MODERN = "2026-07-28";

    final TestClock clock;

    McpTestServer(Path dataDir, Map<String, String> env, Function<Settings, List<McpTool>> extraTools,
                  java.util.function.Consumer<io.javalin.config.JavalinConfig> moreConfig, byte[] key, TestClock clock) {
        this.clock = clock;
        this.port = freePort();
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("PORT", String.valueOf(port));
        raw.put("PUBLIC_URL", "http://localhost:" + port);
        raw.putAll(env);
        this.settings = Settings.from(raw);
        this.store = FileStore.open(dataDir);
        this.notes = new Notes(FileStores.notes(store));
        List<McpTool> tools = new ArrayList<>(BuiltInTools.builtIn(settings.defaultScopes.iterator().next(), notes, Clock.systemUTC()));
        tools.addAll(extraTools.apply(settings));
        this.endpoint = new McpEndpoint(settings, TOKENS::get, tools, key, clock);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            endpoint.mount(config);
            config.routes.get("/hello", ctx -> ctx.result("hi"));
            moreConfig.accept(config);
        }).start("127.0.0.1", port);
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    String resourceMetadata() {
        return "http://localhost:" + port + "/.well-known/oauth-protected-resource/mcp";
    }

    @Override
    public void close() {
        app.stop();
        store.close();
    }

    // ---- requests ----

    record Res(int status, Map<String, List<String>> headers, String body) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) return e.getValue().isEmpty() ? null : e.getValue().get(0);
            }
            return null;
        }

        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + body;
        }
    }

    HttpRequest.Builder post(String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + "/mcp"))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .header("Accept", ACCEPT)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    Res send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Res(r.statusCode(), r.headers().map(), r.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Res rpc(String token, String method, String paramsJson) {
        return rpc(token, method, paramsJson, null);
    }

    Res rpc(String token, String method, String paramsJson, String protocolVersion) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"" + method + "\"" + (paramsJson == null ? "" : ",\"params\":" + paramsJson) + "}";
        HttpRequest.Builder b = post(token, body);
        if (protocolVersion != null) b.header("MCP-Protocol-Version", protocolVersion);
        return send(b);
    }

    Res initialize(String token, String version) {
        return rpc(token, "initialize", "{\"protocolVersion\":\"" + version + "\",\"capabilities\":{},"
                + "\"clientInfo\":{\"name\":\"test-client\",\"version\":\"1.0\"}}");
    }

    Res callTool(String token, String name, String argsJson) {
        return rpc(token, "tools/call", "{\"name\":\"" + name + "\",\"arguments\":" + (argsJson == null ? "{}" : argsJson) + "}", "2025-11-25");
    }

    // ---- modern era (2026-07-28) ----

    /** {@code params} (a JSON object, or null for none) with the modern {@code _meta}; {@code capabilities} JSON or null for {}. */
    static com.fasterxml.jackson.databind.node.ObjectNode modernParams(String params, String capabilities) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode p = params == null ? Json.MAPPER.createObjectNode()
                    : (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(params);
            com.fasterxml.jackson.databind.node.ObjectNode meta = p.has("_meta") ? (com.fasterxml.jackson.databind.node.ObjectNode) p.get("_meta") : p.putObject("_meta");
            if (!meta.has("io.modelcontextprotocol/protocolVersion")) meta.put("io.modelcontextprotocol/protocolVersion", MODERN);
            if (capabilities != null || !meta.has("io.modelcontextprotocol/clientCapabilities")) {
                meta.set("io.modelcontextprotocol/clientCapabilities", Json.MAPPER.readTree(capabilities == null ? "{}" : capabilities));
            }
            if (!meta.has("io.modelcontextprotocol/clientInfo")) meta.set("io.modelcontextprotocol/clientInfo", Json.MAPPER.readTree("{\"name\":\"junit\",\"version\":\"1.0\"}"));
            return p;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A modern POST of {@code body} with the standard headers: version, Mcp-Method and (when given) Mcp-Name. */
    HttpRequest.Builder modernPost(String token, String method, String name, String body) {
        HttpRequest.Builder b = post(token, body).header("MCP-Protocol-Version", MODERN).header("Mcp-Method", method);
        if (name != null) b.header("Mcp-Name", name);
        return b;
    }

    /** A modern request: id {@code id}, {@code params} completed with _meta, the standard headers. */
    Res modern(String token, Object id, String method, String params, String capabilities) {
        com.fasterxml.jackson.databind.node.ObjectNode p = modernParams(params, capabilities);
        com.fasterxml.jackson.databind.node.ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("jsonrpc", "2.0");
        m.set("id", Json.MAPPER.valueToTree(id));
        m.put("method", method);
        m.set("params", p);
        String name = p.has("name") ? p.get("name").asText() : p.has("uri") ? p.get("uri").asText() : null;
        return send(modernPost(token, method, name, m.toString()));
    }

    Res modernCall(String token, String tool, String argsJson, String capabilities) {
        return modern(token, 9, "tools/call", "{\"name\":\"" + tool + "\",\"arguments\":" + (argsJson == null ? "{}" : argsJson) + "}", capabilities);
    }

    /** The tool result's first text content parsed as JSON. */
    static JsonNode toolJson(Res r) {
        try {
            return Json.MAPPER.readTree(r.json().path("result").path("content").path(0).path("text").asText());
        } catch (IOException e) {
            throw new AssertionError("tool text is not JSON: " + r.body, e);
        }
    }

    /**
     * A request over a plain socket, for headers java.net.http refuses to set (Host). {@code rawHeaders} are
     * "Name: value" lines; Connection: close is added.
     */
    Res raw(String method, String path, List<String> rawHeaders, String body) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            for (String h : rawHeaders) req.append(h).append("\r\n");
            if (body != null) req.append("Content-Length: ").append(bytes.length).append("\r\n");
            req.append("Connection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            return parse(s.getInputStream().readAllBytes());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Res parse(byte[] all) {
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        if (headEnd < 0) throw new AssertionError("no HTTP response: " + text);
        String[] lines = text.substring(0, headEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            headers.computeIfAbsent(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(lines[i].substring(c + 1).trim());
        }
        byte[] rest = java.util.Arrays.copyOfRange(all, headEnd + 4, all.length);
        List<String> te = headers.get("transfer-encoding");
        if (te != null && te.get(0).equalsIgnoreCase("chunked")) rest = dechunk(rest);
        return new Res(status, headers, new String(rest, StandardCharsets.UTF_8));
    }

    private static byte[] dechunk(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < in.length) {
            int lineEnd = indexOf(in, i);
            String sizeLine = new String(in, i, lineEnd - i, StandardCharsets.ISO_8859_1).split(";")[0].trim();
            int size = Integer.parseInt(sizeLine, 16);
            if (size == 0) break;
            out.write(in, lineEnd + 2, size);
            i = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] in, int from) {
        for (int i = from; i < in.length - 1; i++) {
            if (in[i] == '\r' && in[i + 1] == '\n') return i;
        }
        throw new AssertionError("bad chunked body");
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
