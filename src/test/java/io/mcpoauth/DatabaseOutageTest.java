package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.postgres.PgTestDatabase;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database goes away (connections cut and refused) or hangs (accepts and never answers) under a running server:
 * every answer is a prompt 503 with Retry-After (never a 500, never a hung request), /healthz says degraded, and once
 * the database is back the server serves again by itself.
 */
class DatabaseOutageTest {
    static final String PASSWORD = "correct horse battery";

    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @TempDir
    Path dir;

    @Test
    void aDatabaseOutageGivesPrompt503sAndTheServerRecoversByItself() throws Exception {
        String url = PG.newSchema();
        URI base = URI.create(PgTestDatabase.baseUrl().replace("postgresql://", "http://"));
        try (TcpProxy db = TcpProxy.start(base.getHost(), base.getPort() == -1 ? 5432 : base.getPort())) {
            String viaProxy = url.replace(base.getHost() + ":" + (base.getPort() == -1 ? 5432 : base.getPort()), "127.0.0.1:" + db.port())
                    + "&connect_timeout=2";
            Map<String, String> env = new HashMap<>(Map.of("STORE", "postgres", "DATABASE_URL", viaProxy, "DATABASE_POOL_SIZE", "3"));
            try (TestServer s = TestServer.start(dir, env)) {
                OAuthClientSim.addUser(s, "alice", PASSWORD);
                OAuthClientSim sim = new OAuthClientSim(s);
                sim.register("none");
                HttpResponse<String> t = sim.exchange(sim.authorize("alice", PASSWORD, "allow").get("code"));
                assertEquals(200, t.statusCode(), t.body());
                String refresh = TestServer.json(t).get("refresh_token").asText();
                assertEquals(200, s.get("/healthz").statusCode());

                for (String outage : new String[] {"cut", "blackhole"}) {
                    if (outage.equals("cut")) db.cut();
                    else db.blackhole();
                    long started = System.nanoTime();
                    HttpResponse<String> r = sim.refresh(refresh);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    assertEquals(503, r.statusCode(), outage + ": " + r.body());
                    assertTrue(r.body().contains("temporarily_unavailable"), r.body());
                    assertTrue(r.headers().firstValue("Retry-After").isPresent(), outage + ": Retry-After");
                    assertTrue(ms < 15_000, outage + ": answered after " + ms + " ms");
                    HttpResponse<String> page = sim.browserGet(sim.authorizeUrl(Map.of()));
                    assertEquals(503, page.statusCode(), outage + ": the sign-in page: " + page.body());
                    MultiInstanceTest.waitFor(() -> s.get("/healthz").statusCode() == 503, 30);
                    HttpResponse<String> health = s.get("/healthz");
                    assertTrue(health.body().contains("degraded") && health.headers().firstValue("Retry-After").isPresent(), health.body());

                    db.restore();
                    MultiInstanceTest.waitFor(() -> s.get("/healthz").statusCode() == 200, 30);
                    HttpResponse<String> back = null;
                    for (int i = 0; i < 50; i++) { // the pool replaces its broken connections in the background
                        back = sim.refresh(refresh);
                        if (back.statusCode() != 503) break;
                        Thread.sleep(100);
                    }
                    assertEquals(200, back.statusCode(), outage + ", after the database came back: " + back.body());
                    refresh = TestServer.json(back).get("refresh_token").asText();
                }
            }
        }
    }
}
