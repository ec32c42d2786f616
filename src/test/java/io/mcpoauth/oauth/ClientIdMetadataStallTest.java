package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client_id document host that accepts TCP but never answers TLS must
 * not hold request threads or the global fetch slots: callers fail fast, one host gets few fetches, a failed host is
 * refused at once for a while; and every refused document gets one text, whether its name resolves or not.
 */
class ClientIdMetadataStallTest {
    @TempDir
    Path dir;

    /** Accepts connections and never answers (held open until closed). */
    static final class Tarpit implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> held = new CopyOnWriteArrayList<>();
        final Thread acceptor;

        Tarpit() throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
            acceptor = new Thread(() -> {
                try {
                    while (true) held.add(server.accept());
                } catch (IOException e) {
                    // closed
                }
            }, "tarpit");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) s.close();
        }
    }

    static HttpResponse<String> authorize(TestServer s, String clientId) {
        OAuthClientSim c = new OAuthClientSim(s);
        c.clientId = clientId;
        return s.send(s.request(c.authorizeUrl(Map.of())).GET());
    }

    static long timed(TestServer s, String clientId, int[] status) {
        long t = System.nanoTime();
        status[0] = authorize(s, clientId).statusCode();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
    }

    @Test
    void aHostThatNeverAnswersTLSHoldsNobodyForLong() throws Exception {
        try (Tarpit tarpit = new Tarpit();
             TestServer s = TestServer.start(dir, Map.of("CIMD_ALLOW_PRIVATE_ADDRESSES", "true"))) {
            String base = "https://127.0.0.1:" + tarpit.server.getLocalPort();
            ExecutorService pool = Executors.newFixedThreadPool(20);
            List<Future<long[]>> results = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    String url = base + "/client" + i + ".json";
                    results.add(pool.submit(() -> {
                        int[] st = new int[1];
                        long ms = timed(s, url, st);
                        return new long[] {ms, st[0]};
                    }));
                }
                long worst = 0;
                int fast = 0;
                for (Future<long[]> f : results) {
                    long[] r = f.get(30, TimeUnit.SECONDS);
                    assertEquals(400, r[1]);
                    worst = Math.max(worst, r[0]);
                    if (r[0] < 1000) fast++;
                }
                System.out.printf("20 client_ids on a host that never answers: slowest %d ms, %d refused at once%n", worst, fast);
                assertTrue(worst < HttpClientIdMetadata.WAIT.toMillis() + 1500, "a caller waited " + worst + " ms");
                assertTrue(fast >= 20 - HttpClientIdMetadata.MAX_FETCHES_PER_HOST, "only " + fast + " refused at once: no per-host limit");
            } finally {
                pool.shutdownNow();
            }
            // once the stalled fetches have timed out, the host is refused at once for every URL on it
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            long last = Long.MAX_VALUE;
            int n = 0;
            while (last >= 500 && System.nanoTime() < until) {
                int[] st = new int[1];
                last = timed(s, base + "/fresh" + n++ + ".json", st);
                assertEquals(400, st[0]);
            }
            assertTrue(last < 500, "a failed host is fetched again for every new URL: " + last + " ms");
            // and a working endpoint was never starved
            assertEquals(200, s.get("/healthz").statusCode());
        }
    }

    @Test
    void everyRefusedDocumentGetsTheSameText() {
        try (TestServer s = TestServer.start(dir)) {
            HttpResponse<String> internal = authorize(s, "https://localhost/client.json");
            HttpResponse<String> unresolvable = authorize(s, "https://no-such-host.invalid/client.json");
            assertEquals(400, internal.statusCode());
            assertEquals(400, unresolvable.statusCode());
            String a = internal.body().replaceAll("(?s)<meta[^>]*>", "");
            String b = unresolvable.body().replaceAll("(?s)<meta[^>]*>", "");
            assertTrue(a.contains("client metadata document this server can use"), a);
            assertEquals(a, b, "the two refusals tell an internal name from an unknown one");
            assertTrue(!a.contains("private") && !a.contains("resolve"), a);
        }
    }
}
