package io.mcpoauth;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/** A real server on a free loopback port with its own data directory, and a plain HTTP client that never follows redirects. */
public final class TestServer implements AutoCloseable {
    public final Server server;
    public final String url;
    public final Path dataDir;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(Server server, String url, Path dataDir) {
        this.server = server;
        this.url = url;
        this.dataDir = dataDir;
    }

    /** Starts a server on {@code dataDir}; {@code env} overrides the defaults (PORT, PUBLIC_URL and OAUTH_DATA_DIR are set here). */
    public static TestServer start(Path dataDir, Map<String, String> env) {
        return start(dataDir, env, java.time.Clock.systemUTC());
    }

    /** Like {@link #start(Path, Map)} with the server's clock under the test's control (e.g. a {@link TestClock}). */
    public static TestServer start(Path dataDir, Map<String, String> env, java.time.Clock clock) {
        for (int attempt = 1; ; attempt++) {
            int port = env.containsKey("PORT") ? Integer.parseInt(env.get("PORT")) : freePort();
            Map<String, String> all = new HashMap<>();
            all.put("PORT", String.valueOf(port));
            all.put("HOST", "127.0.0.1");
            all.put("PUBLIC_URL", "http://127.0.0.1:" + port);
            all.put("OAUTH_DATA_DIR", dataDir.toString());
            all.putAll(env);
            Settings settings = Settings.from(all);
            Server server = Server.create(settings, clock, clock instanceof io.mcpoauth.core.Ticker t ? t : io.mcpoauth.core.Ticker.SYSTEM);
            try {
                server.start();
            } catch (io.javalin.util.JavalinBindException e) {
                // the free port was taken by another process between the probe and the bind: take another one
                server.close();
                if (env.containsKey("PORT") || attempt == 5) throw e;
                continue;
            }
            return new TestServer(server, settings.issuer, dataDir);
        }
    }

    /** An access token of the local user {@code user} for the resource {@code <url><resourcePath>}, from a real grant in the store. */
    public String accessToken(String user, String resourcePath) {
        java.time.Instant now = java.time.Instant.now();
        String resource = url + resourcePath;
        var issued = server.refreshTokens.create("test-client", "local:" + user, "mcp", resource, false, now);
        return server.accessTokens.issue(new io.mcpoauth.store.AccessToken("test-client", "local:" + user, java.util.Set.of("mcp"), resource,
                issued.family().familyId(), now.plusSeconds(600)), now);
    }

    public static TestServer start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    /** The HTTP helpers for a server running elsewhere (e.g. a child process); {@link #server} is null, close does nothing. */
    public static TestServer remote(String url, Path dataDir) {
        return new TestServer(null, url, dataDir);
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpRequest.Builder request(String pathOrUrl) {
        return HttpRequest.newBuilder(URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : url + pathOrUrl));
    }

    public HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder b = request(path).GET();
        if (headers.length > 0) b.headers(headers);
        return send(b);
    }

    public HttpResponse<String> postForm(String path, Map<String, String> form, String... headers) {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(form)));
        if (headers.length > 0) b.headers(headers);
        return send(b);
    }

    public HttpResponse<String> postJson(String path, String json, String... headers) {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) b.headers(headers);
        return send(b);
    }

    public static String form(Map<String, String> form) {
        StringJoiner j = new StringJoiner("&");
        form.forEach((k, v) -> j.add(enc(k) + "=" + enc(v)));
        return j.toString();
    }

    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    public static JsonNode json(HttpResponse<String> r) {
        try {
            return Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body());
        }
    }

    /** An ordered map from alternating keys and values. */
    public static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    @Override
    public void close() {
        if (server != null) server.close();
    }
}
