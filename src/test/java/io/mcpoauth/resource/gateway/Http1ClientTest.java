package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's HTTP/1.1 client against a real socket server that answers each request with the bytes a test gives
 * (so framings and failures that real upstreams produce only sometimes are produced every time).
 */
class Http1ClientTest {
    private final Http1Client client = new Http1Client(Duration.ofSeconds(2), Duration.ofSeconds(4), 8);
    private Raw server;

    @AfterEach
    void close() throws IOException {
        client.close();
        if (server != null) server.close();
    }

    /** Accepts connections; for each request read, writes the next scripted answer (null: close the connection instead). */
    static final class Raw implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connections = new AtomicInteger();
        final List<Socket> open = java.util.Collections.synchronizedList(new ArrayList<>());

        Raw() throws IOException {
            Thread t = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        connections.incrementAndGet();
                        open.add(s);
                        Thread h = new Thread(() -> serve(s));
                        h.setDaemon(true);
                        h.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (true) {
                    String head = readHead(in);
                    if (head == null) return;
                    int length = 0;
                    for (String line : head.split("\r\n")) {
                        if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
                    }
                    byte[] body = in.readNBytes(length);
                    requests.add(head + "\r\n\r\n" + new String(body, StandardCharsets.UTF_8));
                    String answer = answers.poll(5, TimeUnit.SECONDS);
                    if (answer == null || answer.equals("CLOSE")) return;
                    if (answer.startsWith("SLOW")) {
                        Thread.sleep(3_000);
                        return;
                    }
                    out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    if (answer.contains("Connection: close") || !answer.contains("Content-Length") && !answer.contains("chunked")) return;
                }
            } catch (IOException | InterruptedException e) {
                // the test is over
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                byte[] a = b.toByteArray();
                int n = a.length;
                if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                    return new String(a, 0, n - 4, StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/mcp?x=1");
        }

        /** Closes every accepted connection, as an upstream restarting does. */
        void dropConnections() throws IOException {
            synchronized (open) {
                for (Socket s : open) s.close();
                open.clear();
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            dropConnections();
        }
    }

    private Http1Client.Response post(String body) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/json");
        h.put("Authorization", "Bearer abc");
        return client.post(server.uri(), h, body.getBytes(StandardCharsets.UTF_8), Instant.now().plusSeconds(2));
    }

    private static String read(Http1Client.Response r) throws IOException {
        try (InputStream in = r.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void sendsOnePostAndReadsSizedChunkedAndInterimAnswersOnOneKeptAliveConnection() throws Exception {
        server = new Raw();
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        server.answers.add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\ndata:\r\n5\r\n {}\n\n\r\n0\r\nX-Trailer: t\r\n\r\n");
        server.answers.add("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        Http1Client.Response r = post("{\"jsonrpc\":\"2.0\"}");
        assertEquals(200, r.status());
        assertEquals("application/json", r.header("content-type"));
        assertEquals("{\"a\":1}", read(r));
        Http1Client.Response sse = post("{}");
        assertEquals(200, sse.status(), "the interim 100 answer is skipped");
        assertEquals("text/event-stream", sse.header("Content-Type"));
        assertEquals("data: {}\n\n", read(sse));
        Http1Client.Response accepted = post("{}");
        assertEquals(202, accepted.status());
        assertEquals("", read(accepted));
        assertEquals(1, server.connections.get(), "one connection served all three");
        String first = server.requests.get(0);
        assertTrue(first.startsWith("POST /mcp?x=1 HTTP/1.1\r\nHost: 127.0.0.1:" + server.socket.getLocalPort() + "\r\nContent-Length: 17\r\n"), first);
        assertTrue(first.contains("\r\nAuthorization: Bearer abc\r\n") && first.endsWith("{\"jsonrpc\":\"2.0\"}"), first);
    }

    @Test
    void aBodyClosedBeforeItsEndClosesTheConnectionAndAConnectionCloseIsHonoured() throws Exception {
        server = new Raw();
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
        server.answers.add("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        server.answers.add("HTTP/1.1 200 OK\r\n\r\nto the end");
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        Http1Client.Response r = post("{}");
        assertEquals('0', r.body().read());
        r.body().close(); // not read to its end: the connection cannot be reused
        assertEquals("ok", read(post("{}")));
        assertEquals("to the end", read(post("{}")), "a body without a length ends with the connection");
        assertEquals("ok", read(post("{}")));
        assertEquals(4, server.connections.get(), "each of the first three answers ended its connection");
    }

    @Test
    void aPooledConnectionTheUpstreamClosedIsReplacedWithoutAnError() throws Exception {
        server = new Raw();
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
        assertEquals("a", read(post("{}")));
        server.dropConnections(); // the upstream restarted: the pooled connection is dead
        assertEquals("b", read(post("{}")));
        assertEquals(2, server.connections.get());
        assertEquals(2, server.requests.size(), "the request reached the upstream once per answer");
    }

    @Test
    void anUpstreamThatDoesNotAnswerInTimeTimesOutAndAHeaderWithALineBreakIsNeverSent() throws Exception {
        server = new Raw();
        server.answers.add("SLOW");
        Instant start = Instant.now();
        assertThrows(SocketTimeoutException.class, () -> client.post(server.uri(), Map.of(), new byte[0], Instant.now().plusMillis(500)));
        assertTrue(Duration.between(start, Instant.now()).toMillis() < 2_500, "the deadline ends the wait");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.post(server.uri(), Map.of("Authorization", "Bearer x\r\nX-Injected: 1"), new byte[0], Instant.now().plusSeconds(2)));
        assertTrue(e.getMessage().contains("Authorization"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> client.post(server.uri(), Map.of("Bad Name", "v"), new byte[0], Instant.now().plusSeconds(2)));
        assertTrue(server.requests.stream().noneMatch(r -> r.contains("X-Injected")));
    }

    @Test
    void garbageInsteadOfHttpAndABrokenChunkAreErrorsNotHangs() throws Exception {
        server = new Raw();
        server.answers.add("SSH-2.0-OpenSSH\r\n\r\n");
        server.answers.add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        server.answers.add("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort");
        IOException notHttp = assertThrows(IOException.class, () -> post("{}"));
        assertTrue(notHttp.getMessage().contains("HTTP/1.1"), notHttp.getMessage());
        Http1Client.Response chunk = post("{}");
        assertThrows(IOException.class, () -> read(chunk));
        Http1Client.Response cut = post("{}");
        assertThrows(IOException.class, () -> read(cut), "a body shorter than its Content-Length is an error");
        assertNull(cut.header("x-missing"));
    }
}
