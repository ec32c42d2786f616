package io.mcpoauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.login.LocalAccounts;
import io.mcpoauth.login.PasswordHasher;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.postgres.PgStores;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Several server processes ({@link ServeProcess}) on one PostgreSQL schema, behind a {@link RoundRobinProxy} whose
 * URL is every instance's PUBLIC_URL, as behind a load balancer. The test JVM opens the same database for setup and
 * checks ({@link #db}).
 */
final class PgCluster implements AutoCloseable {
    final String databaseUrl;
    final RoundRobinProxy proxy;
    final List<ServeProcess> instances = new ArrayList<>();
    final Stores db;
    private final Path dir;
    private final int proxyPort;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    private PgCluster(String databaseUrl, Path dir, int proxyPort, List<String> backends) throws IOException {
        this.databaseUrl = databaseUrl;
        this.dir = dir;
        this.proxyPort = proxyPort;
        this.db = PgStores.open(databaseUrl, null, 2, 1000);
        this.proxy = RoundRobinProxy.start(proxyPort, backends);
    }

    /** {@code n} instances on a new schema; each gets {@code extra} settings too. */
    static PgCluster start(PgTestDatabase pg, Path dir, int n, Map<String, String> extra) throws Exception {
        String url = pg.newSchema();
        int proxyPort = TestServer.freePort();
        List<Integer> ports = new ArrayList<>();
        List<String> backends = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int p = TestServer.freePort();
            ports.add(p);
            backends.add("http://127.0.0.1:" + p);
        }
        PgCluster c = new PgCluster(url, dir, proxyPort, backends);
        try {
            for (int i = 0; i < n; i++) c.instances.add(c.startInstance(ports.get(i), i, extra));
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
        return c;
    }

    Map<String, String> env(int port, int i, Map<String, String> extra) throws IOException {
        Path data = Files.createDirectories(dir.resolve("instance-" + i));
        Map<String, String> env = new HashMap<>(ServeProcess.env(port, data, Map.of()));
        env.put("PUBLIC_URL", proxyUrl());
        env.put("ALLOWED_HOSTS", "127.0.0.1");
        env.put("STORE", "postgres");
        env.put("DATABASE_URL", databaseUrl);
        env.put("DATABASE_POOL_SIZE", "3");
        env.put("TRUSTED_PROXIES", "127.0.0.1");
        env.putAll(extra);
        return env;
    }

    ServeProcess startInstance(int port, int i, Map<String, String> extra) throws Exception {
        Path work = Files.createDirectories(dir.resolve("work-" + i));
        return ServeProcess.start(work, env(port, i, extra));
    }

    String proxyUrl() {
        return "http://127.0.0.1:" + proxyPort;
    }

    String resource() {
        return proxyUrl() + "/mcp";
    }

    /** The HTTP helpers aimed at the proxy. */
    TestServer viaProxy() {
        return TestServer.remote(proxyUrl(), dir);
    }

    void addUser(String name, String password) {
        new LocalAccounts(db.users(), new PasswordHasher(1_000)).add(name, password.toCharArray(), Instant.now());
    }

    /** A public client, straight into the database. */
    String addClient() {
        String id = Secrets.mint(Secrets.CLIENT_ID);
        db.clients().put(new ClientRecord(id, "Load client", List.of(OAuthClientSim.REDIRECT), List.of("authorization_code", "refresh_token"),
                List.of("code"), "none", null, null, null, null, Instant.now(), Instant.now(), null, null));
        return id;
    }

    /** A grant of {@code clientId} for {@code userId}, straight into the database; returns its refresh token. */
    String addFamily(String clientId, String userId) {
        String familyId = Secrets.randomString(16);
        String token = Secrets.REFRESH_TOKEN + familyId + "." + Secrets.randomString(32);
        Instant now = Instant.now();
        db.grants().create(new RefreshFamily(familyId, clientId, userId, "mcp", resource(), Secrets.hash(token), null, List.of(), now, now,
                now.plus(Duration.ofDays(30)), 0));
        return token;
    }

    /** POST /token grant_type=refresh_token to instance {@code i} directly (not through the proxy). */
    HttpResponse<String> refreshAt(int i, String clientId, String refreshToken) throws IOException, InterruptedException {
        return refreshAt(instances.get(i).url, clientId, refreshToken);
    }

    HttpResponse<String> refreshAt(String base, String clientId, String refreshToken) throws IOException, InterruptedException {
        String form = TestServer.form(TestServer.map("grant_type", "refresh_token", "refresh_token", refreshToken, "client_id", clientId,
                "resource", resource()));
        return http.send(HttpRequest.newBuilder(URI.create(base + "/token")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** tools/call whoami with {@code accessToken} at {@code base}. */
    HttpResponse<String> whoami(String base, String accessToken) throws IOException, InterruptedException {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
        return http.send(HttpRequest.newBuilder(URI.create(base + "/mcp")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-11-25").header("Authorization", "Bearer " + accessToken)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        for (ServeProcess p : instances) p.close();
        proxy.close();
        db.close();
    }
}
