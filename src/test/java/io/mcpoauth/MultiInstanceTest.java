package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several instances (child JVMs) on one PostgreSQL database behind a round-robin proxy: any step of a flow may land on
 * any instance, a refresh race between instances leaves one chain, and killing an instance loses no acknowledged write.
 */
class MultiInstanceTest {
    static final String PASSWORD = "correct horse battery";

    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @TempDir
    Path dir;

    @Test
    void aClientRegistersOnOneInstanceSignsInThroughAnotherAndRefreshesThroughAThird() throws Exception {
        try (PgCluster c = PgCluster.start(PG, dir, 3, Map.of())) {
            c.addUser("alice", PASSWORD);
            OAuthClientSim sim = new OAuthClientSim(c.viaProxy());
            c.proxy.pin(0);
            sim.register("none");
            c.proxy.pin(1);
            Map<String, String> back = sim.authorize("alice", PASSWORD, "allow");
            assertNotNull(back.get("code"), String.valueOf(back));
            assertEquals(sim.state, back.get("state"));
            c.proxy.pin(2);
            HttpResponse<String> exchanged = sim.exchange(back.get("code"));
            assertEquals(200, exchanged.statusCode(), exchanged.body());
            JsonNode tokens = TestServer.json(exchanged);
            String access = tokens.get("access_token").asText();
            String refresh = tokens.get("refresh_token").asText();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> who = c.whoami(c.instances.get(i).url, access);
                assertEquals(200, who.statusCode(), "instance " + i + " knows the access token another issued: " + who.body());
                assertTrue(who.body().contains("local:alice"), who.body());
            }
            for (int i = 0; i < 3; i++) {
                c.proxy.pin(i);
                HttpResponse<String> r = sim.refresh(refresh);
                assertEquals(200, r.statusCode(), "refresh at instance " + i + ": " + r.body());
                refresh = TestServer.json(r).get("refresh_token").asText();
            }
            assertTrue(c.proxy.served(0) > 0 && c.proxy.served(1) > 0 && c.proxy.served(2) > 0);
            // the code is spent for every instance: a replay at another one revokes what the first use issued
            c.proxy.pin(0);
            assertEquals(400, sim.exchange(back.get("code")).statusCode());
            c.proxy.pin(1);
            assertEquals(400, sim.refresh(refresh).statusCode(), "the replayed code's grant is revoked");

            // every request to the next instance: register, /authorize, /login, /consent, /token, /mcp each on another
            c.proxy.pin(-1);
            OAuthClientSim roundRobin = new OAuthClientSim(c.viaProxy());
            roundRobin.register("client_secret_basic");
            Map<String, String> code = roundRobin.authorize("alice", PASSWORD, "allow");
            HttpResponse<String> t = roundRobin.exchange(code.get("code"));
            assertEquals(200, t.statusCode(), t.body());
            String rt = TestServer.json(t).get("refresh_token").asText();
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = roundRobin.refresh(rt);
                assertEquals(200, r.statusCode(), r.body());
                rt = TestServer.json(r).get("refresh_token").asText();
                HttpResponse<String> who = c.whoami(c.proxyUrl(), TestServer.json(r).get("access_token").asText());
                assertEquals(200, who.statusCode(), who.body());
            }
            // revoked on one instance, refused on every other at once
            c.proxy.pin(0);
            HttpResponse<String> revoked = roundRobin.server.postForm("/revoke", TestServer.map("token", rt), "Authorization", "Basic "
                    + java.util.Base64.getEncoder().encodeToString((roundRobin.clientId + ":" + roundRobin.clientSecret).getBytes()));
            assertEquals(200, revoked.statusCode(), revoked.body());
            c.proxy.pin(1);
            assertEquals(400, roundRobin.refresh(rt).statusCode());
        }
    }

    @Test
    void twoInstancesRacingOnOneRefreshTokenLeaveExactlyOneSuccessorAndAReplayRevokesTheGrant() throws Exception {
        try (PgCluster c = PgCluster.start(PG, dir, 2, Map.of())) {
            c.addUser("bob", PASSWORD);
            String client = c.addClient();
            String token = c.addFamily(client, "local:bob");
            String familyId = RefreshTokens.familyIdOf(token);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 20; round++) {
                    CyclicBarrier start = new CyclicBarrier(2);
                    String presented = token;
                    List<Future<HttpResponse<String>>> fs = new ArrayList<>();
                    for (int i = 0; i < 2; i++) {
                        int instance = i;
                        fs.add(pool.submit(() -> {
                            start.await(10, TimeUnit.SECONDS);
                            return c.refreshAt(instance, client, presented);
                        }));
                    }
                    List<String> successors = new ArrayList<>();
                    for (Future<HttpResponse<String>> f : fs) {
                        HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                        assertEquals(200, r.statusCode(), "round " + round + ": the current token, then the same one as the previous (lost response): " + r.body());
                        successors.add(TestServer.json(r).get("refresh_token").asText());
                    }
                    RefreshFamily f = c.db.grants().get(familyId);
                    List<String> live = successors.stream().filter(s -> Secrets.hash(s).equals(f.tokenHash())).toList();
                    assertEquals(1, live.size(), "round " + round + ": exactly one successor is the family's current token");
                    assertEquals(Secrets.hash(presented), f.previousHash(), "the presented token stays the previous one");
                    token = live.get(0);
                    String dead = successors.get(0).equals(token) ? successors.get(1) : successors.get(0);
                    if (round == 19) {
                        HttpResponse<String> replay = c.refreshAt(round % 2, client, dead);
                        assertEquals(400, replay.statusCode(), "the overtaken successor is a replay: " + replay.body());
                        assertTrue(replay.body().contains("already used"), replay.body());
                        assertNull(c.db.grants().get(familyId), "the replay revoked the grant for every instance");
                        assertEquals(400, c.refreshAt((round + 1) % 2, client, token).statusCode());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void killingAnInstanceMidLoadLosesNoAcknowledgedRotation() throws Exception {
        try (PgCluster c = PgCluster.start(PG, dir, 2, Map.of())) {
            c.addUser("carol", PASSWORD);
            String client = c.addClient();
            int workers = 8;
            String[] latest = new String[workers];
            for (int w = 0; w < workers; w++) latest[w] = c.addFamily(client, "local:carol");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger acked = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicInteger ackedAfterKill = new AtomicInteger();
            AtomicBoolean killed = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int me = w;
                fs.add(pool.submit(() -> {
                    int i = me;
                    // run until told to stop, and past that until the last request was answered 200 (so the chain's
                    // newest token is the one this worker holds)
                    boolean lastOk = true;
                    while (!stop.get() || !lastOk) {
                        String base = c.instances.get(i++ % 2).url;
                        try {
                            HttpResponse<String> r = c.refreshAt(base, client, latest[me]);
                            lastOk = r.statusCode() == 200;
                            if (lastOk) {
                                latest[me] = TestServer.json(r).get("refresh_token").asText();
                                acked.incrementAndGet();
                                if (killed.get()) ackedAfterKill.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                                assertTrue(r.statusCode() == 503, "only an unavailable answer is expected: " + r.statusCode() + " " + r.body());
                            }
                        } catch (java.io.IOException e) {
                            lastOk = false; // the killed instance: not acknowledged, retried on the other
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            waitFor(() -> acked.get() >= 200, 60);
            c.instances.get(0).kill();
            killed.set(true);
            waitFor(() -> ackedAfterKill.get() >= 200, 60);
            stop.set(true);
            for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
            pool.shutdown();
            for (int w = 0; w < workers; w++) {
                RefreshFamily f = c.db.grants().get(RefreshTokens.familyIdOf(latest[w]));
                assertNotNull(f, "worker " + w + "'s grant");
                assertEquals(Secrets.hash(latest[w]), f.tokenHash(), "worker " + w + ": the last acknowledged rotation is the current token");
                HttpResponse<String> r = c.refreshAt(1, client, latest[w]);
                assertEquals(200, r.statusCode(), r.body());
            }
            assertTrue(acked.get() >= 400, "acknowledged rotations: " + acked.get() + ", failed: " + failed.get());
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not reached within " + seconds + " s");
            Thread.sleep(20);
        }
    }
}
