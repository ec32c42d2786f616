package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertNoNulls;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.mcpoauth.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery documents over real HTTP (RFC 8414, RFC 9728, clients.md, URLs from configuration only). {@link MetadataEndpoints} is
 * mounted on its own Javalin app here, built from a real server's components, with a {@code PUBLIC_URL} that differs
 * from the address the test connects to, so any URL taken from the request would show.
 */
class MetadataTest {
    static final String PUBLIC = "https://mcp.example.com";

    @TempDir
    Path dir;
    TestServer s;
    Javalin app;
    String local;

    @AfterEach
    void stop() {
        if (app != null) app.stop();
        if (s != null) s.close();
    }

    private void start(String publicUrl, boolean cimd) {
        s = TestServer.start(dir, Map.of("PUBLIC_URL", publicUrl));
        OAuthServices o = s.server.oauth;
        ClientRegistry registry = new ClientRegistry(o.clients(), cimd ? new HttpClientIdMetadata(o.settings(), o.clock()) : null);
        OAuthServices services = new OAuthServices(o.settings(), o.clock(), o.clients(), o.refreshTokens(), o.accessTokens(), registry,
                new ClientAuthentication(registry));
        app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.jetty.host = "127.0.0.1";
            c.jetty.port = 0;
            new MetadataEndpoints(services, new TokenEndpoint(services, s.server.codes).grantTypes()).routes(c);
        }).start();
        local = "http://127.0.0.1:" + app.port();
    }

    private HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder b = s.request(local + path).GET();
        if (headers.length > 0) b.headers(headers);
        return s.send(b);
    }

    private JsonNode document(String path) {
        HttpResponse<String> r = get(path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode b = TestServer.json(r);
        assertNoNulls(b);
        return b;
    }

    @Test
    void authorizationServerMetadataHasEveryFieldClientsNeed() {
        start(PUBLIC, false);
        JsonNode m = document("/.well-known/oauth-authorization-server");
        assertEquals(PUBLIC, m.get("issuer").asText());
        assertEquals(PUBLIC + "/authorize", m.get("authorization_endpoint").asText());
        assertEquals(PUBLIC + "/token", m.get("token_endpoint").asText());
        assertEquals(PUBLIC + "/register", m.get("registration_endpoint").asText());
        assertEquals(PUBLIC + "/revoke", m.get("revocation_endpoint").asText());
        assertEquals(PUBLIC + "/introspect", m.get("introspection_endpoint").asText());
        assertEquals("[\"code\"]", m.get("response_types_supported").toString());
        assertEquals("[\"authorization_code\",\"refresh_token\"]", m.get("grant_types_supported").toString());
        assertEquals("[\"S256\"]", m.get("code_challenge_methods_supported").toString());
        assertEquals(Set.of("client_secret_basic", "client_secret_post", "none"), strings(m.get("token_endpoint_auth_methods_supported")));
        assertEquals(Set.of("client_secret_basic", "client_secret_post", "none"), strings(m.get("revocation_endpoint_auth_methods_supported")));
        assertEquals(Set.of("client_secret_basic", "client_secret_post"), strings(m.get("introspection_endpoint_auth_methods_supported")));
        assertEquals("[\"mcp\"]", m.get("scopes_supported").toString());
        assertTrue(m.get("authorization_response_iss_parameter_supported").asBoolean());
        assertFalse(m.has("client_id_metadata_document_supported"), "not claimed while metadata documents are off");
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().endsWith("_endpoint")) assertTrue(f.getValue().asText().startsWith(PUBLIC + "/"), f.toString());
        }
    }

    @Test
    void metadataDocumentSupportIsAdvertisedOnlyWhenEnabled() {
        start(PUBLIC, true);
        assertTrue(document("/.well-known/oauth-authorization-server").get("client_id_metadata_document_supported").asBoolean());
    }

    @Test
    void protectedResourceMetadataAtBothUrlsNamesTheIssuerByteForByte() {
        start(PUBLIC, false);
        String issuer = document("/.well-known/oauth-authorization-server").get("issuer").asText();
        for (String path : new String[] {"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}) {
            JsonNode m = document(path);
            assertEquals(PUBLIC + "/mcp", m.get("resource").asText());
            assertEquals(1, m.get("authorization_servers").size());
            assertEquals(issuer, m.get("authorization_servers").get(0).asText());
            assertEquals("[\"header\"]", m.get("bearer_methods_supported").toString());
            assertEquals("[\"mcp\"]", m.get("scopes_supported").toString());
        }
    }

    @Test
    void aTrailingSlashInPublicUrlDoesNotLeakIntoTheIssuer() {
        start(PUBLIC + "/", false);
        JsonNode m = document("/.well-known/oauth-authorization-server");
        assertEquals(PUBLIC, m.get("issuer").asText());
        assertEquals(PUBLIC + "/token", m.get("token_endpoint").asText());
        assertEquals(PUBLIC + "/mcp", document("/.well-known/oauth-protected-resource/mcp").get("resource").asText());
    }

    @Test
    void underAPathPrefixThePathInsertedUrlsAreServedToo() {
        start("https://example.com/base", false);
        JsonNode m = document("/.well-known/oauth-authorization-server/base");
        assertEquals("https://example.com/base", m.get("issuer").asText());
        assertEquals("https://example.com/base/token", m.get("token_endpoint").asText());
        assertEquals("https://example.com/base/mcp", document("/.well-known/oauth-protected-resource/base/mcp").get("resource").asText());
        assertEquals(m, document("/.well-known/oauth-authorization-server"));
    }

    @Test
    void forgedHostAndForwardedHeadersChangeNothing() throws IOException {
        start(PUBLIC, false);
        String honest = get("/.well-known/oauth-authorization-server").body();
        String forwarded = get("/.well-known/oauth-authorization-server", "X-Forwarded-Host", "evil.example",
                "X-Forwarded-Proto", "http", "Forwarded", "host=evil.example;proto=http").body();
        assertEquals(honest, forwarded);
        for (String path : new String[] {"/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp"}) {
            String raw = rawGet(path, "evil.example");
            assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
            assertTrue(raw.contains(PUBLIC), raw);
            assertFalse(raw.contains("evil"), raw);
            assertFalse(raw.contains("127.0.0.1"), raw);
        }
    }

    /** A request with a forged Host header (java.net.http refuses to send one). */
    private String rawGet(String path, String host) throws IOException {
        return rawGet(app.port(), path, host);
    }

    private static String rawGet(int port, String path, String host) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nX-Forwarded-Host: " + host
                    + "\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void openIdConfigurationIsAJson404() {
        start(PUBLIC, false);
        for (String path : new String[] {"/.well-known/openid-configuration", "/.well-known/openid-configuration/mcp"}) {
            HttpResponse<String> r = get(path);
            assertEquals(404, r.statusCode());
            JsonNode b = TestServer.json(r);
            assertEquals("not_found", b.get("error").asText());
            assertTrue(b.get("error_description").asText().contains(PUBLIC + "/.well-known/oauth-authorization-server"));
        }
    }

    @Test
    void browserClientsMayFetchMetadataAndPreflightTheTokenEndpoint() {
        start(PUBLIC, false);
        HttpResponse<String> r = get("/.well-known/oauth-authorization-server", "Origin", "http://localhost:6274");
        assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertTrue(r.headers().firstValue("Access-Control-Allow-Credentials").isEmpty());
        for (String path : new String[] {"/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource", "/token"}) {
            HttpResponse<String> pre = s.send(s.request(local + path).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "http://localhost:6274").header("Access-Control-Request-Method", path.equals("/token") ? "POST" : "GET")
                    .header("Access-Control-Request-Headers", "mcp-protocol-version"));
            assertEquals(204, pre.statusCode(), path);
            assertEquals("*", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(""), path);
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase().contains("mcp-protocol-version"));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains(path.equals("/token") ? "POST" : "GET"));
        }
    }

    @Test
    void thePureDocumentsNeverHoldNull() {
        start(PUBLIC, false);
        for (boolean cimd : new boolean[] {false, true}) {
            Metadata.authorizationServer(s.server.settings, cimd, new TokenEndpoint(s.server.oauth, s.server.codes).grantTypes()).forEach((k, v) -> assertTrue(v != null, k));
        }
        Metadata.protectedResource(s.server.settings).forEach((k, v) -> assertTrue(v != null, k));
    }

    @Test
    void theRealServerServesTheSameDocumentsFromConfigurationOnly() throws IOException {
        s = TestServer.start(dir);
        local = s.url;
        JsonNode as = document("/.well-known/oauth-authorization-server");
        assertEquals(s.url, as.get("issuer").asText());
        assertEquals(s.server.oauth.registry().metadataDocumentsEnabled(), as.has("client_id_metadata_document_supported"));
        assertEquals(as.get("issuer"), document("/.well-known/oauth-protected-resource/mcp").get("authorization_servers").get(0));
        String raw = rawGet(s.server.port(), "/.well-known/oauth-authorization-server", "evil.example");
        assertTrue(raw.startsWith("HTTP/1.1 200") && raw.contains(s.url + "/token") && !raw.contains("evil"), raw);
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new java.util.HashSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
