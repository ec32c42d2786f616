package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every call to the upstream provider runs here, with one deadline for the whole call ({@code UPSTREAM_TIMEOUT}):
 * a provider that hangs costs the request at most that long. Calls run on a bounded pool of daemon threads; when it
 * is full the call fails at once as unavailable. Exceptions carry no response bodies (they may hold tokens).
 */
public final class IdpCalls implements AutoCloseable {
    static final int MAX_BODY = 1024 * 1024;
    private final Duration timeout;
    private final ThreadPoolExecutor pool;
    private final HttpClient http;

    public IdpCalls(Duration timeout) {
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(0, 64, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "upstream-call-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public Duration timeout() {
        return timeout;
    }

    /** A failed upstream call: {@code status} is the HTTP status when one was received, else 0. */
    public static final class Failed extends RuntimeException {
        public final int status;

        public Failed(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** Runs {@code call} with the deadline; its own exceptions come back unwrapped (checked ones wrapped in {@link Failed}). */
    public <T> T bounded(String what, Callable<T> call) {
        Future<T> f;
        try {
            f = pool.submit(call);
        } catch (RejectedExecutionException e) {
            throw new Failed(0, what + ": too many upstream calls in flight");
        }
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new Failed(0, what + ": no answer within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new Failed(0, what + ": interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new Failed(0, what + ": " + describe(c));
        }
    }

    /** GET {@code url} as JSON with {@code Authorization: Bearer <token>} (when given), bounded. */
    public JsonNode getJson(String what, URI url, String bearer, String accept) {
        return bounded(what, () -> fetchJson(what, url, bearer, accept));
    }

    private JsonNode fetchJson(String what, URI url, String bearer, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(timeout).GET()
                .header("Accept", accept == null ? "application/json" : accept)
                .header("User-Agent", "mcp-oauth-server");
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        if (r.statusCode() != 200) throw new Failed(r.statusCode(), what + ": HTTP " + r.statusCode());
        if (body.length > MAX_BODY) throw new Failed(r.statusCode(), what + ": answer larger than 1 MB");
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new Failed(r.statusCode(), what + ": the answer is not JSON");
        }
    }

    static String describe(Throwable t) {
        if (t == null) return "unknown error";
        if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException) return "timed out";
        if (t instanceof java.net.ConnectException) return "connection refused";
        if (t instanceof java.net.UnknownHostException) return "unknown host";
        return t.getClass().getSimpleName();
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
