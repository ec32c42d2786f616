package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.config.Settings;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.ClientRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client ID Metadata Documents against a real local HTTPS server (a throwaway certificate made with keytool, trusted
 * only by the fetcher under test). Loopback is only reachable because these tests enable the private-address
 * setting; one test shows that without it nothing is even requested.
 */
class ClientIdMetadataTest {
    @TempDir
    static Path keys;
    static HttpsServer server;
    static ExecutorService serverThreads;
    static SSLContext clientTrust;
    static String base;
    static final Map<String, Reply> replies = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    static final CountDownLatch release = new CountDownLatch(1);

    /** What the document server answers on a path. {@code chunked}: no Content-Length; {@code endless}: never stops. */
    record Reply(int status, Map<String, String> headers, byte[] body, boolean chunked, boolean endless, boolean hang) {
        static Reply json(String body, String... headers) {
            Map<String, String> h = new java.util.LinkedHashMap<>();
            h.put("Content-Type", "application/json");
            for (int i = 0; i < headers.length; i += 2) h.put(headers[i], headers[i + 1]);
            return new Reply(200, h, body.getBytes(StandardCharsets.UTF_8), false, false, false);
        }
    }

    TestClock clock;
    HttpClientIdMetadata cimd;

    @BeforeAll
    static void startDocumentServer() throws Exception {
        Path ks = keys.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "doc", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-keystore", ks.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext serverSsl = SSLContext.getInstance("TLS");
        serverSsl.init(kmf.getKeyManagers(), null, null);

        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("doc", store.getCertificate("doc"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientTrust = SSLContext.getInstance("TLS");
        clientTrust.init(null, tmf.getTrustManagers(), null);

        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverSsl));
        serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            Reply r = replies.get(path);
            try (exchange) {
                if (r == null) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                if (r.hang()) {
                    release.await(30, TimeUnit.SECONDS);
                    return;
                }
                r.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
                exchange.sendResponseHeaders(r.status(), r.body().length == 0 && !r.endless() ? -1 : r.chunked() || r.endless() ? 0 : r.body().length);
                OutputStream os = exchange.getResponseBody();
                if (r.endless()) {
                    byte[] junk = new byte[1024];
                    for (int i = 0; i < 100_000; i++) os.write(junk); // ~100 MB unless the client hangs up first
                } else {
                    os.write(r.body());
                }
            } catch (IOException | InterruptedException e) {
                // the client hung up, as it should for oversized documents
            }
        });
        server.start();
        base = "https://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stopDocumentServer() {
        release.countDown();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    @BeforeEach
    void fresh() {
        replies.clear();
        hits.clear();
        clock = new TestClock();
        cimd = new HttpClientIdMetadata(Set.of("mcp"), true, clock, clientTrust);
    }

    static int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    static String doc(String url, String extra) {
        return "{\"client_id\":\"" + url + "\",\"client_name\":\"Example MCP Client\",\"client_uri\":\"https://app.example.com\","
                + "\"logo_uri\":\"https://app.example.com/logo.png\",\"redirect_uris\":[\"http://127.0.0.1:3000/callback\","
                + "\"http://localhost:3000/callback\"],\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"none\"" + extra + "}";
    }

    /** Serves the spec's example document at {@code path}; returns its URL. */
    static String serve(String path, String extra, String... headers) {
        String url = base + path;
        replies.put(path, Reply.json(doc(url, extra), headers));
        return url;
    }

    /** The reason the log got: the client itself only ever sees {@link HttpClientIdMetadata#REFUSED}. */
    private String refusal(String url) {
        OAuthError e = assertThrows(OAuthError.class, () -> cimd.require(url));
        assertEquals(OAuthError.INVALID_CLIENT, e.code());
        assertEquals(HttpClientIdMetadata.REFUSED, e.description());
        assertNull(cimd.resolve(url));
        return cimd.refusalDetail(url);
    }

    @Test
    void aValidDocumentBecomesAPublicClient() {
        String url = serve("/oauth/client.json", ",\"scope\":\"mcp files:write\",\"software_id\":\"x\"");
        ClientRecord c = cimd.require(url);
        assertEquals(url, c.clientId());
        assertEquals("Example MCP Client", c.clientName());
        assertEquals(List.of("http://127.0.0.1:3000/callback", "http://localhost:3000/callback"), c.redirectUris());
        assertEquals(List.of("authorization_code", "refresh_token"), c.grantTypes());
        assertEquals(List.of("code"), c.responseTypes());
        assertTrue(c.isPublic());
        assertNull(c.clientSecretHash());
        assertNull(c.registrationTokenHash());
        assertEquals("mcp", c.scope(), "unsupported scopes are dropped, not refused");
        assertEquals("https://app.example.com", c.clientUri());
        assertEquals("x", c.softwareId());
        assertEquals(1, hits("/oauth/client.json"));
    }

    @Test
    void anAbsentAuthMethodMeansNone() {
        String url = base + "/noauth.json";
        replies.put("/noauth.json", Reply.json(doc(url, "").replace(",\"token_endpoint_auth_method\":\"none\"", "")));
        assertTrue(cimd.require(url).isPublic());
    }

    @Test
    void theRegistryAndClientAuthenticationUseIt(@TempDir Path data) {
        String url = serve("/registry.json", "");
        try (TestServer s = TestServer.start(data)) {
            ClientRegistry registry = new ClientRegistry(s.server.clients, cimd);
            assertTrue(registry.metadataDocumentsEnabled());
            assertEquals(url, registry.find(url).clientId());
            ClientRecord c = new ClientAuthentication(registry).authenticate(null, Params.parseUrlEncoded("client_id=" + TestServer.enc(url)));
            assertEquals(url, c.clientId());
            assertNull(s.server.clients.get(url), "never stored");
            assertNull(registry.find(base + "/missing.json"));
            OAuthError e = assertThrows(OAuthError.class, () -> registry.require(base + "/missing.json"));
            assertEquals(HttpClientIdMetadata.REFUSED, e.description());
            assertTrue(cimd.refusalDetail(base + "/missing.json").contains("HTTP 404"));
            assertTrue(Metadata.authorizationServer(s.server.settings, true, List.of()).containsKey("client_id_metadata_document_supported"));
        }
    }

    @Test
    void everyRefusalSaysWhatIsWrong() {
        String url;
        url = base + "/mismatch.json";
        replies.put("/mismatch.json", Reply.json(doc(url + "/", "")));
        assertTrue(refusal(url).contains("does not match"), refusal(url));

        url = base + "/notjson.json";
        replies.put("/notjson.json", Reply.json("<html>hello</html>"));
        assertTrue(refusal(url).contains("not valid JSON"));

        url = base + "/array.json";
        replies.put("/array.json", Reply.json("[1,2]"));
        assertTrue(refusal(url).contains("not a JSON object"));

        url = base + "/trailing.json";
        replies.put("/trailing.json", Reply.json(doc(url, "") + " {}"));
        assertTrue(refusal(url).contains("not valid JSON"));

        url = base + "/badredirect.json";
        replies.put("/badredirect.json", Reply.json(doc(url, "").replace("http://localhost:3000/callback", "http://evil.example/callback")));
        assertTrue(refusal(url).contains("plain http"), refusal(url));

        url = base + "/noredirect.json";
        replies.put("/noredirect.json", Reply.json("{\"client_id\":\"" + url + "\",\"client_name\":\"x\"}"));
        assertTrue(refusal(url).contains("redirect_uris"));

        url = base + "/basic.json";
        replies.put("/basic.json", Reply.json(doc(url, "").replace("\"none\"", "\"client_secret_basic\"")));
        assertTrue(refusal(url).contains("client_secret_basic"));

        url = base + "/jwt.json";
        replies.put("/jwt.json", Reply.json(doc(url, "").replace("\"none\"", "\"private_key_jwt\"")));
        assertTrue(refusal(url).contains("only none"));

        url = base + "/secret.json";
        replies.put("/secret.json", Reply.json(doc(url, ",\"client_secret\":\"s\"")));
        assertTrue(refusal(url).contains("client secret"));

        url = base + "/noname.json";
        replies.put("/noname.json", Reply.json(doc(url, "").replace("\"client_name\":\"Example MCP Client\",", "")));
        assertTrue(refusal(url).contains("client_name"));

        url = base + "/rtl.json";
        replies.put("/rtl.json", Reply.json(doc(url, "").replace("Example MCP Client", "Exa\\u202Emple")));
        assertTrue(refusal(url).contains("client_name"));

        url = base + "/password.json";
        replies.put("/password.json", Reply.json(doc(url, "").replace("[\"authorization_code\"]", "[\"password\"]")));
        assertTrue(refusal(url).contains("password"));

        assertTrue(refusal(base + "/absent.json").contains("HTTP 404"));

        replies.put("/error.json", new Reply(500, Map.of(), "{}".getBytes(), false, false, false));
        assertTrue(refusal(base + "/error.json").contains("HTTP 500"));
    }

    @Test
    void redirectsAreNotFollowed() {
        String target = serve("/target.json", "");
        replies.put("/moved.json", new Reply(302, Map.of("Location", target), new byte[0], false, false, false));
        String why = refusal(base + "/moved.json");
        assertTrue(why.contains("redirect") && why.contains("302"), why);
        assertEquals(0, hits("/target.json"));
    }

    @Test
    void documentsOverFiveKilobytesAreRefusedWithOrWithoutContentLength() {
        String url = base + "/exact.json";
        String body = doc(url, "");
        replies.put("/exact.json", Reply.json(body + " ".repeat(HttpClientIdMetadata.MAX_DOCUMENT_BYTES - body.length())));
        assertNotNull(cimd.require(url), "exactly 5 KB is fine");

        url = base + "/big.json";
        body = doc(url, "");
        replies.put("/big.json", Reply.json(body + " ".repeat(HttpClientIdMetadata.MAX_DOCUMENT_BYTES - body.length() + 1)));
        assertTrue(refusal(url).contains("larger than 5 KB"), refusal(url));

        url = base + "/chunked.json";
        body = doc(url, "");
        replies.put("/chunked.json", new Reply(200, Map.of(), (body + " ".repeat(6000)).getBytes(), true, false, false));
        assertTrue(refusal(url).contains("larger than 5 KB"));

        replies.put("/endless.json", new Reply(200, Map.of(), new byte[0], true, true, false));
        long t0 = System.nanoTime();
        assertTrue(refusal(base + "/endless.json").contains("larger than 5 KB"));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "stops reading at once");
    }

    @Test
    void aServerThatNeverAnswersIsGivenFiveSecondsButTheCallerWaitsThree() throws InterruptedException {
        replies.put("/hang.json", new Reply(200, Map.of(), new byte[0], false, false, true));
        long t0 = System.nanoTime();
        OAuthError e = assertThrows(OAuthError.class, () -> cimd.require(base + "/hang.json"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(HttpClientIdMetadata.REFUSED, e.description());
        assertTrue(ms >= 2500 && ms < 4500, ms + " ms");
        // the fetch goes on in the background for its five seconds, and its outcome is cached
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cimd.refusalDetail(base + "/hang.json") == null && System.nanoTime() < until) Thread.sleep(50);
        String why = cimd.refusalDetail(base + "/hang.json");
        assertTrue(why != null && why.contains("within 5 seconds"), why);
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) >= 4500);
    }

    @Test
    void usableDocumentsAreCachedPerTheirHeadersWithinBounds() {
        String url = serve("/maxage.json", "", "Cache-Control", "public, max-age=300");
        cimd.require(url);
        cimd.require(url);
        assertEquals(1, hits("/maxage.json"));
        clock.advance(Duration.ofSeconds(299));
        cimd.require(url);
        assertEquals(1, hits("/maxage.json"));
        clock.advance(Duration.ofSeconds(2));
        cimd.require(url);
        assertEquals(2, hits("/maxage.json"));

        String plain = serve("/plain.json", "");
        cimd.require(plain);
        clock.advance(HttpClientIdMetadata.DEFAULT_TTL.minusSeconds(1));
        cimd.require(plain);
        assertEquals(1, hits("/plain.json"));
        clock.advance(Duration.ofSeconds(2));
        cimd.require(plain);
        assertEquals(2, hits("/plain.json"), "one hour without cache headers");

        String nostore = serve("/nostore.json", "", "Cache-Control", "no-store");
        cimd.require(nostore);
        cimd.require(nostore);
        assertEquals(1, hits("/nostore.json"), "no-store is still kept for the minimum of one minute");
        clock.advance(HttpClientIdMetadata.MIN_TTL.plusSeconds(1));
        cimd.require(nostore);
        assertEquals(2, hits("/nostore.json"));

        String forever = serve("/forever.json", "", "Cache-Control", "max-age=31536000");
        cimd.require(forever);
        clock.advance(Duration.ofHours(24).plusSeconds(1));
        cimd.require(forever);
        assertEquals(2, hits("/forever.json"), "at most a day");
    }

    @Test
    void expiresIsHonouredWhenThereIsNoMaxAge() {
        java.time.Instant now = java.time.Instant.parse("2030-01-01T00:00:00Z");
        assertEquals(Duration.ofMinutes(10), HttpClientIdMetadata.ttl(null, null, "Tue, 01 Jan 2030 00:10:00 GMT", null, now));
        assertEquals(Duration.ofMinutes(10), HttpClientIdMetadata.ttl(null, null, "Tue, 01 Jan 2030 00:20:00 GMT",
                "Tue, 01 Jan 2030 00:10:00 GMT", now), "relative to the server's Date");
        assertEquals(HttpClientIdMetadata.MIN_TTL, HttpClientIdMetadata.ttl(null, null, "0", null, now));
        assertEquals(Duration.ofSeconds(200), HttpClientIdMetadata.ttl("max-age=300", "100", "Tue, 01 Jan 2030 00:10:00 GMT", null, now));
        assertEquals(HttpClientIdMetadata.DEFAULT_TTL, HttpClientIdMetadata.ttl("public", null, null, null, now));
    }

    @Test
    void failuresAreCachedBriefly() {
        String url = base + "/flaky.json";
        assertThrows(OAuthError.class, () -> cimd.require(url));
        assertThrows(OAuthError.class, () -> cimd.require(url));
        assertEquals(1, hits("/flaky.json"));
        serve("/flaky.json", "");
        clock.advance(HttpClientIdMetadata.NEGATIVE_TTL.plusSeconds(1));
        assertNotNull(cimd.require(url));
        assertEquals(2, hits("/flaky.json"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://app.example/client.json", "https://app.example", "https://app.example/",
        "https://app.example/client.json#frag", "https://user:pw@app.example/client.json", "https://user@app.example/client.json",
        "https://app.example/a/../client.json", "https://app.example/./client.json", "https://app.example/a/%2e%2e/client.json",
        "https://app.example/client .json", "https://app.example/clïent.json", "https:///client.json"})
    void badClientIdUrlsAreRefusedWithoutAnyRequest(String url) {
        OAuthError e = assertThrows(OAuthError.class, () -> cimd.require(url));
        assertEquals(OAuthError.INVALID_CLIENT, e.code());
        assertTrue(hits.isEmpty());
    }

    @Test
    void withoutTheTestSettingLoopbackAndPrivateHostsAreNeverContacted() {
        String url = serve("/private.json", "");
        Settings settings = Settings.from(Map.of());
        assertFalse(settings.cimdAllowPrivateAddresses);
        HttpClientIdMetadata production = new HttpClientIdMetadata(settings, clock);
        for (String u : List.of(url, url.replace("127.0.0.1", "localhost"), url.replace("127.0.0.1", "[::1]"),
                "https://10.1.2.3/client.json", "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/x.json")) {
            OAuthError e = assertThrows(OAuthError.class, () -> production.require(u));
            assertEquals(HttpClientIdMetadata.REFUSED, e.description());
            assertTrue(production.refusalDetail(u).contains("private, loopback"), production.refusalDetail(u));
        }
        assertEquals(0, hits("/private.json"), "no request was made");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
        "100.127.255.255", "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1",
        "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "64:ff9b::a00:1", "2002:a00:1::1", "2001:db8::1", "::127.0.0.1"})
    void internalAddressesAreNotPublic(String ip) throws IOException {
        assertFalse(HttpClientIdMetadata.isPublic(InetAddress.getByName(ip)), ip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e",
        "64:ff9b::808:808"})
    void publicAddressesArePublic(String ip) throws IOException {
        assertTrue(HttpClientIdMetadata.isPublic(InetAddress.getByName(ip)), ip);
    }
}
