package io.mcpoauth;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A small load balancer for tests: each request goes to the next backend in turn (or to the one {@link #pin}ned),
 * as a reverse proxy would send it: method, path and query, headers, body; the answer comes back unchanged, redirects
 * included. The backends see 127.0.0.1 as the client and the backend's own Host (they run with
 * {@code ALLOWED_HOSTS=127.0.0.1}).
 */
public final class RoundRobinProxy implements AutoCloseable {
    private static final Set<String> HOP = Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding", "keep-alive",
            "te", "trailer", "proxy-connection", "http2-settings");
    private final HttpServer server;
    private final List<String> backends;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLongArray served;
    private volatile int pinned = -1;

    private RoundRobinProxy(HttpServer server, List<String> backends) {
        this.server = server;
        this.backends = List.copyOf(backends);
        this.served = new AtomicLongArray(backends.size());
    }

    /** Listens on {@code port} (0: any free one) of 127.0.0.1 and spreads requests over {@code backends} (base URLs). */
    public static RoundRobinProxy start(int port, List<String> backends) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 256);
        RoundRobinProxy p = new RoundRobinProxy(s, backends);
        s.createContext("/", p::handle);
        s.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "proxy");
            t.setDaemon(true);
            return t;
        }));
        s.start();
        return p;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** From now on every request goes to backend {@code i}; -1: round robin again. */
    public void pin(int i) {
        pinned = i;
    }

    /** How many requests backend {@code i} answered. */
    public long served(int i) {
        return served.get(i);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            int i = pinned >= 0 ? pinned : Math.floorMod(next.getAndIncrement(), backends.size());
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(backends.get(i) + ex.getRequestURI())).timeout(Duration.ofSeconds(60))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((name, values) -> {
                if (HOP.contains(name.toLowerCase(Locale.ROOT))) return;
                for (String v : values) b.header(name, v);
            });
            HttpResponse<byte[]> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                byte[] msg = ("backend " + i + " unreachable: " + e).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ex.sendResponseHeaders(502, msg.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(msg);
                }
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(502, -1);
                return;
            }
            served.incrementAndGet(i);
            r.headers().map().forEach((name, values) -> {
                if (HOP.contains(name.toLowerCase(Locale.ROOT)) || name.startsWith(":")) return;
                ex.getResponseHeaders().put(name, values);
            });
            byte[] out = r.body();
            ex.sendResponseHeaders(r.statusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(out);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
