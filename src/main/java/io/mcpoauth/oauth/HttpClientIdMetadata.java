package io.mcpoauth.oauth;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Json;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client ID Metadata Documents (MCP 2025-11-25 authorization, draft-ietf-oauth-client-id-metadata-document): a
 * {@code client_id} that is an https URL is fetched and the JSON document found there describes a public client.
 *
 * <p>Fetching is defended against server-side request forgery and abuse:
 * <ul>
 *   <li>the URL must be {@code https}, with a host and a path other than {@code /}, no user information, no
 *       fragment and no {@code .}/{@code ..} segments;</li>
 *   <li>the host is resolved first and every address must be public: loopback, private (RFC 1918), link-local,
 *       CGNAT (100.64/10), unique-local IPv6, multicast, unspecified, documentation and reserved ranges are refused
 *       (and IPv4 addresses embedded in IPv6 are checked as IPv4) unless {@code CIMD_ALLOW_PRIVATE_ADDRESSES=true},
 *       a setting for tests only. Known limit: the HTTP client resolves the name again when it connects, so a DNS
 *       server that answers differently the second time (DNS rebinding, a time-of-check/time-of-use gap) can still
 *       point the connection elsewhere; Java 17's HttpClient cannot be pinned to the checked address without giving
 *       up TLS host name verification. Running the server where internal services need authentication, or behind an
 *       egress proxy that enforces the same rules, closes that gap;</li>
 *   <li>no proxy, no redirects (a 3xx is refused), {@code Accept: application/json}, 5 seconds in total for name
 *       resolution, connection, response and body, at most 5 KB of body (reading stops and the document is refused
 *       beyond that).</li>
 * </ul>
 * The document must be a JSON object whose {@code client_id} equals the URL exactly, with {@code client_name} and
 * {@code redirect_uris} valid under the registration rules, no client secret, and {@code token_endpoint_auth_method}
 * absent or {@code none} (methods needing a shared secret cannot work without registration). Requested scopes
 * this server does not support are dropped rather than refused (a document serves many servers), and
 * {@code refresh_token} is always granted, as for registered clients.
 *
 * <p>Results are cached per URL: a usable document for its {@code Cache-Control: max-age} (minus {@code Age}) or,
 * failing that, until {@code Expires}; {@link #DEFAULT_TTL} (1 hour) without either; always between
 * {@link #MIN_TTL} (1 minute, also for {@code no-cache}/{@code no-store}, so that one sign-in does not fetch it
 * three times) and {@link #MAX_TTL} (24 hours). Failures are cached for {@link #NEGATIVE_TTL} (30 seconds), and a
 * host that failed below HTTP (its name, its address, the connection, TLS, the time allowed) is refused for as long,
 * for every URL on it. At most {@link #MAX_ENTRIES} URLs are kept (least recently used dropped).
 *
 * <p>Fetches run on their own threads, never on a request thread: concurrent lookups of one URL share one fetch,
 * at most {@link #MAX_WAITERS_PER_URL} callers wait for it and each at most {@link #WAIT} (the fetch goes on and its
 * result is cached for the next attempt); at most {@link #MAX_FETCHES_PER_HOST} fetches run per host and 16 in all,
 * and a lookup beyond that is refused at once. Every refusal of a fetched document says the same {@link #REFUSED}
 * (so that nobody can tell an internal name that resolves from one that does not); the reason goes to the log.
 * The resulting {@link ClientRecord} is never written to {@code clients.json}.
 */
public final class HttpClientIdMetadata implements ClientIdMetadata {
    private static final Logger LOG = LoggerFactory.getLogger(HttpClientIdMetadata.class);

    public static final int MAX_DOCUMENT_BYTES = 5 * 1024;
    public static final Duration TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    public static final Duration MIN_TTL = Duration.ofMinutes(1);
    public static final Duration MAX_TTL = Duration.ofHours(24);
    public static final Duration NEGATIVE_TTL = Duration.ofSeconds(30);
    public static final int MAX_ENTRIES = 1000;
    public static final int MAX_URL_LENGTH = 2000;
    private static final int MAX_CONCURRENT_FETCHES = 16;
    /** Fetches at once from one host: one host that never answers cannot take the slots every other host needs. */
    public static final int MAX_FETCHES_PER_HOST = 2;
    /** Callers waiting for one URL's fetch at once; more are refused at once. */
    public static final int MAX_WAITERS_PER_URL = 8;
    /** How long a caller (a request thread) waits for a fetch; the fetch itself goes on up to {@link #TIMEOUT} and is cached. */
    public static final Duration WAIT = Duration.ofSeconds(3);
    /**
     * The one text every refused document gets, whatever the reason (the reason goes to the log): telling "does not
     * resolve" from "resolves to an internal address" would let anyone map internal names.
     */
    public static final String REFUSED = "The client_id URL does not lead to a client metadata document this server can use"
            + " (it could not be fetched, or it is not a valid document). Check that it is served over https at that exact URL.";
    private static final ObjectReader JSON = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Set<String> supportedScopes;
    private final boolean allowPrivateAddresses;
    private final Clock clock;
    private final ThreadPoolExecutor executor;
    private final SSLContext sslContext;
    private HttpClient http; // guarded by this; built at the first fetch (it initializes TLS, a tenth of the server's start)
    private final Map<String, Entry> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };
    private final ConcurrentHashMap<String, Flight> inFlight = new ConcurrentHashMap<>();
    /** At most this many documents are fetched at once; beyond that a lookup is refused at once. */
    private final Semaphore fetchSlots = new Semaphore(MAX_CONCURRENT_FETCHES);
    private final ConcurrentHashMap<String, AtomicInteger> fetchesPerHost = new ConcurrentHashMap<>();
    /** Hosts whose last fetch failed below HTTP (name, address, connection, TLS, time): refused until then. */
    private final ConcurrentHashMap<String, Entry> failedHosts = new ConcurrentHashMap<>();
    /** Runs the fetches, so that no request thread does (callers wait on a result, at most {@link #WAIT}). */
    private final ThreadPoolExecutor fetcher;

    /** A cached outcome: the client, or the error saying why the document cannot be used ({@code detail}: for the log). */
    private record Entry(ClientRecord client, OAuthError error, String detail, Instant expiresAt) {}

    /** One fetch in progress and how many callers wait for it. */
    private static final class Flight {
        final CompletableFuture<Entry> result = new CompletableFuture<>();
        final AtomicInteger waiters = new AtomicInteger();
    }

    /** Why a document is refused, for the log; {@code hostLevel}: the host itself failed (not this one document). */
    private static final class Refusal extends RuntimeException {
        final boolean hostLevel;

        Refusal(String detail, boolean hostLevel) {
            super(detail, null, false, false);
            this.hostLevel = hostLevel;
        }
    }

    public HttpClientIdMetadata(Settings settings, Clock clock) {
        this(settings.scopes, settings.cimdAllowPrivateAddresses, clock, null);
    }

    /** @param sslContext null for the JDK's default trust store (tests pass one that trusts their own certificate) */
    HttpClientIdMetadata(Set<String> supportedScopes, boolean allowPrivateAddresses, Clock clock, SSLContext sslContext) {
        this.supportedScopes = Set.copyOf(supportedScopes);
        this.allowPrivateAddresses = allowPrivateAddresses;
        this.clock = clock;
        AtomicInteger n = new AtomicInteger();
        // Name lookups block, so they run here (bounded) with a deadline; the HTTP client keeps its own executor.
        this.executor = new ThreadPoolExecutor(MAX_CONCURRENT_FETCHES, MAX_CONCURRENT_FETCHES, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_CONCURRENT_FETCHES), r -> {
                    Thread t = new Thread(r, "cimd-dns-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.executor.allowCoreThreadTimeOut(true);
        AtomicInteger f = new AtomicInteger();
        this.fetcher = new ThreadPoolExecutor(MAX_CONCURRENT_FETCHES, MAX_CONCURRENT_FETCHES, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_CONCURRENT_FETCHES), r -> {
                    Thread t = new Thread(r, "cimd-fetch-" + f.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.fetcher.allowCoreThreadTimeOut(true);
        this.sslContext = sslContext;
    }

    private synchronized HttpClient http() {
        if (http == null) {
            HttpClient.Builder b = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .proxy(HttpClient.Builder.NO_PROXY)
                    .connectTimeout(TIMEOUT);
            if (sslContext != null) b.sslContext(sslContext);
            http = b.build();
        }
        return http;
    }

    @Override
    public ClientRecord resolve(String url) {
        try {
            return require(url);
        } catch (OAuthError e) {
            return null;
        }
    }

    @Override
    public ClientRecord require(String url) {
        URI uri = checkUrl(url);
        Instant now = clock.instant();
        Entry e = cached(url, now);
        if (e == null) e = hostFailed(uri.getHost(), now);
        if (e == null) e = fetchShared(url, uri);
        if (e.error() != null) throw e.error();
        return e.client();
    }

    /** Why the document at {@code url} was last refused (the detail the log got), or null: for tests and operators. */
    String refusalDetail(String url) {
        Entry e;
        synchronized (this) {
            e = cache.get(url);
        }
        return e == null ? null : e.detail();
    }

    private Entry hostFailed(String host, Instant now) {
        Entry e = failedHosts.get(host);
        if (e == null) return null;
        if (!e.expiresAt().isAfter(now)) {
            failedHosts.remove(host, e);
            return null;
        }
        return e;
    }

    private synchronized Entry cached(String url, Instant now) {
        Entry e = cache.get(url);
        if (e != null && !e.expiresAt().isAfter(now)) {
            cache.remove(url);
            return null;
        }
        return e;
    }

    private synchronized void remember(String url, Entry e) {
        cache.put(url, e);
    }

    /**
     * One fetch per URL at a time, on the fetch threads; callers wait for its result at most {@link #WAIT}, and at
     * most {@link #MAX_WAITERS_PER_URL} of them. A fetch starts only while its host has fewer than
     * {@link #MAX_FETCHES_PER_HOST} running and a global slot is free; otherwise the caller is refused at once.
     */
    private Entry fetchShared(String url, URI uri) {
        Flight flight = inFlight.get(url);
        if (flight == null) {
            Flight mine = new Flight();
            flight = inFlight.putIfAbsent(url, mine);
            if (flight == null) {
                flight = mine;
                if (!start(url, uri, mine)) {
                    inFlight.remove(url, mine);
                    return refusedNow(url, "too many documents are being fetched (from " + shorten(uri.getHost(), 60) + " or in all)");
                }
            }
        }
        if (flight.waiters.incrementAndGet() > MAX_WAITERS_PER_URL) {
            flight.waiters.decrementAndGet();
            return refusedNow(url, "too many requests are already waiting for this document");
        }
        try {
            return flight.result.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return refusedNow(url, "the wait was interrupted");
        } catch (ExecutionException ex) {
            return refusedNow(url, "the fetch failed (" + ex.getCause() + ")");
        } catch (TimeoutException ex) {
            return refusedNow(url, "it is still being fetched after " + WAIT.toSeconds() + " seconds");
        } finally {
            flight.waiters.decrementAndGet();
        }
    }

    private boolean start(String url, URI uri, Flight flight) {
        String host = uri.getHost();
        AtomicInteger perHost = fetchesPerHost.computeIfAbsent(host, h -> new AtomicInteger());
        if (perHost.incrementAndGet() > MAX_FETCHES_PER_HOST) {
            release(host, perHost);
            return false;
        }
        if (!fetchSlots.tryAcquire()) {
            release(host, perHost);
            return false;
        }
        try {
            fetcher.execute(() -> {
                Entry e;
                try {
                    e = load(url, uri);
                    remember(url, e);
                } catch (RuntimeException ex) {
                    LOG.warn("Client metadata document {}: the fetch failed", url, ex);
                    e = new Entry(null, OAuthError.invalidClient(REFUSED), "the fetch failed: " + ex, clock.instant());
                } finally {
                    // before the waiters hear: a lookup after this one must see the cache, not this flight
                    inFlight.remove(url, flight);
                    fetchSlots.release();
                    release(host, perHost);
                }
                flight.result.complete(e);
            });
            return true;
        } catch (RejectedExecutionException e) {
            fetchSlots.release();
            release(host, perHost);
            return false;
        }
    }

    private void release(String host, AtomicInteger perHost) {
        if (perHost.decrementAndGet() <= 0) fetchesPerHost.remove(host, perHost);
    }

    /** A refusal answered now and not cached (the reason is about this moment, not the document). */
    private Entry refusedNow(String url, String detail) {
        LOG.info("Client metadata document {} refused: {}", shorten(url, 200), detail);
        return new Entry(null, OAuthError.invalidClient(REFUSED), detail, clock.instant());
    }

    private Entry load(String url, URI uri) {
        Instant start = clock.instant();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            checkAddresses(uri.getHost(), deadline);
            Fetched f = fetch(uri, deadline);
            ClientRecord client = validate(url, f.body(), start);
            LOG.debug("Client metadata document {} loaded ({})", url, client.clientName());
            return new Entry(client, null, null, start.plus(ttl(f.response(), start)));
        } catch (Refusal r) {
            LOG.info("Client metadata document {} refused: {}", shorten(url, 200), r.getMessage());
            Entry e = new Entry(null, OAuthError.invalidClient(REFUSED), r.getMessage(), start.plus(NEGATIVE_TTL));
            if (r.hostLevel) failedHosts.put(uri.getHost(), new Entry(null, e.error(), "its host failed recently: " + r.getMessage(), e.expiresAt()));
            if (failedHosts.size() > MAX_ENTRIES) failedHosts.clear();
            return e;
        }
    }

    // ---- the URL ----

    /** The parsed client_id URL; invalid_client saying what is wrong with it. */
    static URI checkUrl(String url) {
        if (url == null || !url.startsWith("https://")) {
            throw OAuthError.invalidClient("A client_id that is a URL must start with https://.");
        }
        if (url.length() > MAX_URL_LENGTH) throw OAuthError.invalidClient("The client_id URL is longer than " + MAX_URL_LENGTH + " characters.");
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c <= 0x20 || c >= 0x7F) throw badUrl(url, "the URL contains spaces, control or non-ASCII characters");
        }
        if (url.indexOf('#') >= 0) throw badUrl(url, "the URL must not contain a fragment ('#')");
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw badUrl(url, "it is not a valid URL");
        }
        if (uri.getRawUserInfo() != null || uri.getRawAuthority() == null || uri.getRawAuthority().indexOf('@') >= 0) {
            throw badUrl(url, "the URL must not contain user information (a part ending in '@')");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) throw badUrl(url, "the URL has no valid host");
        String path = uri.getRawPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            throw badUrl(url, "the URL must have a path, such as https://app.example/oauth/client.json");
        }
        for (String segment : path.split("/", -1)) {
            String decoded;
            try {
                decoded = URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw badUrl(url, "the URL path contains a malformed percent-escape");
            }
            if (decoded.equals(".") || decoded.equals("..")) throw badUrl(url, "the URL path must not contain '.' or '..' segments");
        }
        return uri;
    }

    // ---- addresses ----

    private void checkAddresses(String host, long deadline) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses;
        try {
            CompletableFuture<InetAddress[]> lookup = CompletableFuture.supplyAsync(() -> {
                try {
                    return InetAddress.getAllByName(h);
                } catch (UnknownHostException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, executor);
            addresses = lookup.get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            throw new Refusal("too many host names are being resolved", false);
        } catch (TimeoutException e) {
            throw refusedHost("https://" + host, "its host name could not be resolved within " + TIMEOUT.toSeconds() + " seconds");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refusedHost("https://" + host, "the lookup was interrupted");
        } catch (ExecutionException e) {
            throw refusedHost("https://" + host, "its host name '" + shorten(host, 60) + "' could not be resolved");
        }
        if (addresses.length == 0) throw refusedHost("https://" + host, "its host name could not be resolved");
        if (allowPrivateAddresses) return;
        for (InetAddress a : addresses) {
            if (!isPublic(a)) {
                throw new Refusal("The client metadata document cannot be fetched: its host '" + shorten(host, 60)
                        + "' resolves to a private, loopback or otherwise internal address, which this server does not contact.", true);
            }
        }
    }

    /** True for globally routable unicast addresses; false for every special-purpose range an attacker could aim at. */
    static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) return isPublicV4(b, 0);
        if (!(a instanceof Inet6Address) || b.length != 16) return false;
        int b0 = b[0] & 0xFF;
        int b1 = b[1] & 0xFF;
        if ((b0 & 0xFE) == 0xFC) return false;                                  // fc00::/7 unique local
        if (b0 == 0xFE && (b1 & 0xC0) == 0xC0) return false;                    // fec0::/10 old site-local
        if (zero(b, 0, 10) && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
            return isPublicV4(b, 12);                                            // ::ffff:a.b.c.d IPv4-mapped
        }
        if (zero(b, 0, 12)) return false;                                        // ::a.b.c.d compatible, ::, ::1
        if (b0 == 0x00 && b1 == 0x64 && (b[2] & 0xFF) == 0xFF && (b[3] & 0xFF) == 0x9B) {
            return isPublicV4(b, 12);                                            // 64:ff9b::/96 NAT64
        }
        if (b0 == 0x20 && b1 == 0x02) return isPublicV4(b, 2);                  // 2002::/16 6to4
        if (b0 == 0x20 && b1 == 0x01 && (b[2] & 0xFF) == 0x0D && (b[3] & 0xFF) == 0xB8) return false; // 2001:db8::/32 docs
        if (b0 == 0x20 && b1 == 0x01 && b[2] == 0 && b[3] == 0) return false;   // 2001::/32 Teredo
        return true;
    }

    private static boolean isPublicV4(byte[] b, int o) {
        int a0 = b[o] & 0xFF;
        int a1 = b[o + 1] & 0xFF;
        int a2 = b[o + 2] & 0xFF;
        if (a0 == 0 || a0 == 10 || a0 == 127) return false;                     // this network, private, loopback
        if (a0 == 169 && a1 == 254) return false;                              // link-local
        if (a0 == 172 && (a1 & 0xF0) == 16) return false;                      // 172.16/12
        if (a0 == 192 && a1 == 168) return false;                              // 192.168/16
        if (a0 == 100 && (a1 & 0xC0) == 64) return false;                      // 100.64/10 CGNAT
        if (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) return false;        // 192.0.0/24 protocol, 192.0.2/24 docs
        if (a0 == 198 && (a1 & 0xFE) == 18) return false;                      // 198.18/15 benchmarking
        if (a0 == 198 && a1 == 51 && a2 == 100) return false;                  // documentation
        if (a0 == 203 && a1 == 0 && a2 == 113) return false;                   // documentation
        return a0 < 224;                                                        // multicast, reserved, broadcast
    }

    private static boolean zero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) return false;
        }
        return true;
    }

    // ---- the fetch ----

    private record Fetched(HttpResponse<byte[]> response, byte[] body) {}

    private static final class TooLarge extends IOException {
        TooLarge() {
            super("document too large", null);
        }
    }

    private Fetched fetch(URI uri, long deadline) {
        String url = uri.toString();
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis(remainingMillis(deadline)))
                .header("Accept", "application/json")
                .GET()
                .build();
        CompletableFuture<HttpResponse<byte[]>> pending;
        try {
            pending = http().sendAsync(request, info -> {
                if (info.statusCode() != 200) return new Limited(-1);
                long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
                return new Limited(declared > MAX_DOCUMENT_BYTES ? -2 : MAX_DOCUMENT_BYTES);
            });
        } catch (RejectedExecutionException e) {
            throw new Refusal("the HTTP client refused the fetch (busy)", false);
        }
        HttpResponse<byte[]> response;
        try {
            response = pending.get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw refusedHost(url, "it did not answer within " + TIMEOUT.toSeconds() + " seconds");
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw refused(url, "the fetch was interrupted");
        } catch (ExecutionException e) {
            throw new Refusal("The client metadata document at " + shorten(url, 120) + " cannot be used: " + explain(e.getCause()) + ".", hostLevel(e.getCause()));
        }
        int status = response.statusCode();
        if (status >= 300 && status < 400) {
            throw refused(url, "it answered with a redirect (HTTP " + status + "), which is not followed: the document must be served"
                    + " directly at the client_id URL");
        }
        if (status != 200) throw refused(url, "it answered HTTP " + status + " instead of 200");
        return new Fetched(response, response.body());
    }

    private static String explain(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TooLarge) return "it is larger than " + (MAX_DOCUMENT_BYTES / 1024) + " KB";
            if (c instanceof HttpTimeoutException) return "it did not answer within " + TIMEOUT.toSeconds() + " seconds";
            if (c instanceof SSLException) return "the TLS connection failed (untrusted certificate or handshake error)";
            if (c instanceof ConnectException) return "the host could not be reached";
            if (c instanceof UnknownHostException) return "its host name could not be resolved";
        }
        return "it could not be fetched (" + (t == null ? "unknown error" : t.getClass().getSimpleName()) + ")";
    }

    /**
     * Collects at most {@code limit} bytes; past that it cancels the download and fails with {@link TooLarge}.
     * {@code -1}: the body is not wanted (a non-200 answer) and the download is cancelled at once; {@code -2}: the
     * declared length is already too large.
     */
    private static final class Limited implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        Limited(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (limit == -1) {
                s.cancel();
                result.complete(new byte[0]);
            } else if (limit == -2) {
                s.cancel();
                result.completeExceptionally(new TooLarge());
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) return;
            for (ByteBuffer buf : items) {
                if (out.size() + buf.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new TooLarge());
                    return;
                }
                byte[] chunk = new byte[buf.remaining()];
                buf.get(chunk);
                out.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }

    // ---- the document ----

    private ClientRecord validate(String url, byte[] body, Instant now) {
        JsonNode doc;
        try {
            doc = JSON.readTree(body);
        } catch (IOException | RuntimeException e) {
            throw refused(url, "it is not valid JSON");
        }
        if (doc == null || !doc.isObject()) throw refused(url, "it is not a JSON object");
        JsonNode id = doc.get("client_id");
        if (id == null || !id.isTextual()) throw refused(url, "it has no client_id");
        if (!id.textValue().equals(url)) {
            throw refused(url, "its client_id ('" + shorten(id.textValue(), 80) + "') does not match the URL it was fetched from");
        }
        if (doc.has("client_secret") || doc.has("client_secret_expires_at")) {
            throw refused(url, "it contains a client secret, which a published document must never hold");
        }
        JsonNode method = doc.get("token_endpoint_auth_method");
        if (method != null && !method.isNull() && !(method.isTextual() && method.textValue().equals(ClientMetadata.AUTH_NONE))) {
            throw refused(url, "its token_endpoint_auth_method is '" + shorten(method.asText(), 40)
                    + "': only none (a public client using PKCE) is supported for client metadata documents");
        }
        JsonNode name = doc.get("client_name");
        if (name == null || !name.isTextual() || name.textValue().isBlank()) throw refused(url, "it has no client_name");

        ObjectNode copy = ((ObjectNode) doc).deepCopy();
        copy.put("token_endpoint_auth_method", ClientMetadata.AUTH_NONE);
        copy.remove("scope");
        copy.remove("client_uri");
        ClientMetadata md;
        try {
            md = ClientMetadata.fromRequest(copy, supportedScopes);
        } catch (OAuthError e) {
            throw refused(url, e.description());
        }
        return new ClientRecord(url, md.clientName(), md.redirectUris(), Registration.grantTypes(md.grantTypes()), md.responseTypes(),
                ClientMetadata.AUTH_NONE, scope(doc.get("scope")), clientUri(doc.get("client_uri")), md.softwareId(),
                md.softwareVersion(), now, null, null, null, md.applicationType());
    }

    /** The requested scopes this server supports, or null (no restriction beyond the server's) when none are left. */
    private String scope(JsonNode node) {
        if (node == null || !node.isTextual()) return null;
        Set<String> kept = new LinkedHashSet<>(Scopes.parse(node.textValue()));
        kept.retainAll(supportedScopes);
        return kept.isEmpty() ? null : Scopes.format(kept);
    }

    /** A client_uri worth showing (https, valid), or null: a bad one is dropped rather than refusing the client. */
    private static String clientUri(JsonNode node) {
        if (node == null || !node.isTextual()) return null;
        String v = node.textValue();
        return v.startsWith("https://") && RedirectUris.problem(v) == null ? v : null;
    }

    // ---- caching ----

    /** How long a usable document is kept, from its cache headers (see the class comment). */
    static Duration ttl(HttpResponse<?> response, Instant now) {
        return ttl(response.headers().firstValue("Cache-Control").orElse(null), response.headers().firstValue("Age").orElse(null),
                response.headers().firstValue("Expires").orElse(null), response.headers().firstValue("Date").orElse(null), now);
    }

    static Duration ttl(String cacheControl, String age, String expires, String date, Instant now) {
        Duration d = null;
        if (cacheControl != null) {
            for (String directive : cacheControl.toLowerCase(Locale.ROOT).split(",")) {
                String dir = directive.strip();
                if (dir.equals("no-store") || dir.equals("no-cache")) return MIN_TTL;
                if (dir.startsWith("max-age=")) {
                    try {
                        long seconds = Long.parseLong(dir.substring("max-age=".length()).replace("\"", "").strip());
                        long ageSeconds = age == null ? 0 : Math.max(0, Long.parseLong(age.strip()));
                        d = Duration.ofSeconds(Math.max(0, seconds - ageSeconds));
                    } catch (NumberFormatException e) {
                        d = null;
                    }
                }
            }
        }
        if (d == null && expires != null) {
            try {
                Instant exp = ZonedDateTime.parse(expires.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Instant base = date == null ? now : ZonedDateTime.parse(date.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                d = Duration.between(base, exp);
            } catch (RuntimeException e) {
                d = MIN_TTL; // an invalid Expires means "already expired" (RFC 9111 §5.3)
            }
        }
        if (d == null) return DEFAULT_TTL;
        if (d.compareTo(MIN_TTL) < 0) return MIN_TTL;
        return d.compareTo(MAX_TTL) > 0 ? MAX_TTL : d;
    }

    // ---- errors ----

    /** A client_id that is not an acceptable URL at all (no request made): said as it is, it reveals nothing. */
    private static OAuthError badUrl(String url, String why) {
        return OAuthError.invalidClient("The client metadata document at " + shorten(url, 120) + " cannot be used: " + why + ".");
    }

    /** A document refused for itself (its answer or its content). */
    private static Refusal refused(String url, String why) {
        return new Refusal("The client metadata document at " + shorten(url, 120) + " cannot be used: " + why + ".", false);
    }

    /** A document refused because its host failed (name, address, connection, TLS, time): the host is refused a while. */
    private static Refusal refusedHost(String url, String why) {
        return new Refusal("The client metadata document at " + shorten(url, 120) + " cannot be used: " + why + ".", true);
    }

    private static boolean hostLevel(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TooLarge) return false;
            if (c instanceof HttpTimeoutException || c instanceof SSLException || c instanceof ConnectException
                    || c instanceof UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    private static long remainingMillis(long deadlineNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    private static String shorten(String s, int max) {
        return s.length() > max ? s.substring(0, max) + "..." : s;
    }
}
