package io.mcpoauth.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 300 connections trickling a POST /token body a byte every two
 * seconds hold no request thread (/healthz and the metadata answer at once), are answered 408 once
 * REQUEST_BODY_TIMEOUT passes, and one address cannot open more than MAX_CONNECTIONS_PER_ADDRESS connections.
 * The trickling connections come from ten loopback addresses (127.0.0.2-11), the probes from 127.0.0.1.
 */
class SlowPeersTest {
    @TempDir
    Path dir;

    static Socket open(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    static long millisFor(TestServer s, String path) {
        long t = System.nanoTime();
        HttpResponse<String> r = s.send(s.request(path).timeout(java.time.Duration.ofSeconds(10)).GET());
        assertEquals(200, r.statusCode(), path);
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
    }

    @Test
    void tricklingBodiesHoldNoThreadAndAreCutOffAtTheDeadline() throws Exception {
        try (TestServer s = TestServer.start(dir, Map.of("REQUEST_BODY_TIMEOUT", "4"))) {
            int port = s.server.port();
            List<Socket> trickling = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    Socket c = open("127.0.0.", port, 2 + i % 10);
                    c.setSoTimeout(100);
                    OutputStream out = c.getOutputStream();
                    out.write(("POST /token HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                            + "Content-Length: 1000\r\n\r\ng").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    trickling.add(c);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
                long worstHealth = 0;
                long worstMetadata = 0;
                int answered408 = 0;
                List<Socket> live = new ArrayList<>(trickling);
                while (!live.isEmpty() && System.nanoTime() < deadline) {
                    worstHealth = Math.max(worstHealth, millisFor(s, "/healthz"));
                    worstMetadata = Math.max(worstMetadata, millisFor(s, "/.well-known/oauth-authorization-server"));
                    for (Socket c : new ArrayList<>(live)) {
                        try {
                            c.getOutputStream().write('a');
                            InputStream in = c.getInputStream();
                            byte[] buf = new byte[64];
                            int n = in.read(buf);
                            if (n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 408")) answered408++;
                            live.remove(c);
                        } catch (SocketTimeoutException e) {
                            // still waiting: trickle on
                        } catch (IOException e) {
                            live.remove(c); // closed by the server
                        }
                    }
                    Thread.sleep(Math.min(2000, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
                }
                System.out.printf("300 trickling bodies: /healthz at worst %d ms, metadata %d ms; %d answered 408, %d still open%n",
                        worstHealth, worstMetadata, answered408, live.size());
                assertTrue(worstHealth < 2000, "/healthz took " + worstHealth + " ms beside 300 trickling connections");
                assertTrue(worstMetadata < 2000, "the metadata took " + worstMetadata + " ms beside 300 trickling connections");
                assertEquals(0, live.size(), live.size() + " trickling connections outlived REQUEST_BODY_TIMEOUT");
                assertTrue(answered408 >= 250, "only " + answered408 + " got a 408");
            } finally {
                for (Socket c : trickling) c.close();
            }
        }
    }

    static Socket open(String prefix, int port, int last) throws IOException {
        return open(prefix + last, port);
    }

    @Test
    void oneAddressCannotOpenMoreThanItsConnections() throws Exception {
        try (TestServer s = TestServer.start(dir, Map.of("MAX_CONNECTIONS_PER_ADDRESS", "20"))) {
            int port = s.server.port();
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    Socket c = open("127.0.0.21", port);
                    c.setSoTimeout(3000);
                    sockets.add(c);
                }
                int closed = 0;
                int open = 0;
                for (Socket c : sockets) {
                    c.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    try {
                        int n = c.getInputStream().read(new byte[256]);
                        if (n < 0) closed++;
                        else open++;
                    } catch (IOException e) {
                        closed++;
                    }
                }
                assertEquals(20, open, "connections from one address served");
                assertEquals(20, closed, "connections beyond MAX_CONNECTIONS_PER_ADDRESS");
                // another address is not affected, and closing connections frees the address's budget
                assertTrue(millisFor(s, "/healthz") < 2000);
                for (Socket c : sockets) c.close();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                boolean served = false;
                while (!served && System.nanoTime() < until) {
                    try (Socket again = open("127.0.0.21", port)) {
                        again.setSoTimeout(2000);
                        again.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        served = again.getInputStream().read(new byte[256]) > 0;
                    } catch (IOException e) {
                        Thread.sleep(50);
                    }
                }
                assertTrue(served, "the address stayed refused after closing its connections");
            } finally {
                for (Socket c : sockets) c.close();
            }
        }
    }
}
