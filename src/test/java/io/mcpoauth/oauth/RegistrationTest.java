package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.ClientRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 7591 registration over real HTTP: metadata validation, secrets never stored raw, and the body limits. */
class RegistrationTest {
    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        if (s != null) s.close();
    }

    static final String CLAUDE = """
            {"client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback"],
             "grant_types":["authorization_code","refresh_token"],"response_types":["code"],
             "token_endpoint_auth_method":"none","scope":"mcp"}""";

    /** Registers and returns the parsed 201 body (asserting the status). */
    static JsonNode register(TestServer s, String json) {
        HttpResponse<String> r = s.postJson("/register", json);
        assertEquals(201, r.statusCode(), r.body());
        return TestServer.json(r);
    }

    /** A confidential client registered with the given method; the 201 body. */
    static JsonNode registerConfidential(TestServer s, String method) {
        return register(s, "{\"client_name\":\"Conf\",\"redirect_uris\":[\"https://app.example/cb\"],\"token_endpoint_auth_method\":\""
                + method + "\"}");
    }

    static JsonNode registerPublic(TestServer s) {
        return register(s, "{\"client_name\":\"Pub\",\"redirect_uris\":[\"http://localhost:3000/cb\"],\"token_endpoint_auth_method\":\"none\"}");
    }

    /** Fails when any value anywhere in the tree is JSON null. */
    static void assertNoNulls(JsonNode n) {
        assertFalse(n.isNull(), "JSON null in output");
        for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) assertNoNulls(it.next());
    }

    static void assertError(HttpResponse<String> r, int status, String error) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode b = TestServer.json(r);
        assertEquals(error, b.path("error").asText(), r.body());
        String d = b.path("error_description").asText();
        assertTrue(d.length() > 10, "a sentence: " + r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), "no stack trace: " + r.body());
        assertNoNulls(b);
    }

    @Test
    void publicClientGets201WithEverySpecifiedFieldAndNoSecret() {
        long before = System.currentTimeMillis() / 1000;
        HttpResponse<String> r = s.postJson("/register", CLAUDE);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode b = TestServer.json(r);
        assertNoNulls(b);
        String id = b.get("client_id").asText();
        assertTrue(id.startsWith(Secrets.CLIENT_ID), id);
        assertTrue(b.get("client_id_issued_at").asLong() >= before - 1);
        assertEquals("Claude", b.get("client_name").asText());
        assertEquals("https://claude.ai/api/mcp/auth_callback", b.get("redirect_uris").get(0).asText());
        assertEquals("[\"authorization_code\",\"refresh_token\"]", b.get("grant_types").toString());
        assertEquals("[\"code\"]", b.get("response_types").toString());
        assertEquals("none", b.get("token_endpoint_auth_method").asText());
        assertEquals("mcp", b.get("scope").asText());
        assertFalse(b.has("client_secret"));
        assertFalse(b.has("client_secret_expires_at"));
        assertTrue(b.get("registration_access_token").asText().startsWith(Secrets.REGISTRATION_TOKEN));
        assertEquals(s.url + "/register/" + id, b.get("registration_client_uri").asText());

        // Durable before the 201: it is in the store, with only the hash of the registration token.
        ClientRecord c = s.server.clients.get(id);
        assertNotNull(c);
        assertNull(c.clientSecretHash());
        assertEquals(Secrets.hash(b.get("registration_access_token").asText()), c.registrationTokenHash());
    }

    @Test
    void confidentialClientGetsASecretThatNeverExpiresAndOnlyItsHashIsStored() throws IOException {
        JsonNode b = register(s, "{\"client_name\":\"Server app\",\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"]}");
        assertEquals("client_secret_basic", b.get("token_endpoint_auth_method").asText(), "RFC 7591 default");
        String secret = b.get("client_secret").asText();
        assertTrue(secret.startsWith(Secrets.CLIENT_SECRET));
        assertEquals(0, b.get("client_secret_expires_at").asLong());
        assertTrue(b.get("client_secret_expires_at").isIntegralNumber());
        ClientRecord c = s.server.clients.get(b.get("client_id").asText());
        assertTrue(Secrets.matches(secret, c.clientSecretHash()));

        // No raw secret or registration token anywhere in the data directory.
        String token = b.get("registration_access_token").asText();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
                assertFalse(text.contains(secret), p + " holds the client secret");
                assertFalse(text.contains(token), p + " holds the registration token");
            }
        }
    }

    @Test
    void registeredClientSurvivesARestart() {
        JsonNode b = registerConfidential(s, "client_secret_post");
        String id = b.get("client_id").asText();
        s.close();
        s = TestServer.start(dir);
        ClientRecord c = s.server.clients.get(id);
        assertNotNull(c);
        assertEquals("client_secret_post", c.tokenEndpointAuthMethod());
        assertTrue(Secrets.matches(b.get("client_secret").asText(), c.clientSecretHash()));
    }

    @Test
    void realClientsRegister() {
        // Cursor registers three at once.
        JsonNode cursor = register(s, """
                {"client_name":"Cursor","redirect_uris":["cursor://anysphere.cursor-mcp/oauth/callback",
                 "https://www.cursor.com/agents/mcp/oauth/callback","http://localhost:8787/callback"],
                 "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}""");
        assertEquals(3, cursor.get("redirect_uris").size());
        // mcp-remote adds client_uri and software fields, which are echoed.
        JsonNode remote = register(s, """
                {"client_name":"MCP CLI Proxy","redirect_uris":["http://localhost:12345/oauth/callback"],
                 "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],
                 "response_types":["code"],"client_uri":"https://github.com/modelcontextprotocol/mcp-cli",
                 "software_id":"2e6dc280-f3c3-4e01-99a7-8181dbd1d23d","software_version":"0.1.16"}""");
        assertEquals("https://github.com/modelcontextprotocol/mcp-cli", remote.get("client_uri").asText());
        assertEquals("2e6dc280-f3c3-4e01-99a7-8181dbd1d23d", remote.get("software_id").asText());
        assertEquals("0.1.16", remote.get("software_version").asText());
        // ChatGPT, confidential with client_secret_post.
        JsonNode chatgpt = register(s, """
                {"client_name":"ChatGPT","redirect_uris":["https://chatgpt.com/connector_platform_oauth_redirect"],
                 "grant_types":["authorization_code","refresh_token"],"response_types":["code"],
                 "token_endpoint_auth_method":"client_secret_post"}""");
        assertTrue(chatgpt.has("client_secret"));
        assertNotEquals(cursor.get("client_id"), remote.get("client_id"));
    }

    @Test
    void refreshTokenIsAlwaysAmongTheGrantTypes() {
        JsonNode b = register(s, "{\"redirect_uris\":[\"https://app.example/cb\"],\"grant_types\":[\"authorization_code\"],"
                + "\"token_endpoint_auth_method\":\"none\"}");
        assertEquals("[\"authorization_code\",\"refresh_token\"]", b.get("grant_types").toString());
        assertFalse(b.has("client_name"), "absent, not null");
    }

    @Test
    void clientChosenIdSecretAndUnknownFieldsAreIgnored() {
        JsonNode b = register(s, """
                {"client_id":"mine","client_secret":"s3cret","client_id_issued_at":1,"registration_access_token":"x",
                 "redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none",
                 "logo_uri":"https://app.example/logo.png","x-custom":{"nested":[1,2,3]}}""");
        assertNotEquals("mine", b.get("client_id").asText());
        assertFalse(b.has("client_secret"));
        assertFalse(b.has("logo_uri"));
        assertFalse(b.has("x-custom"));
        assertNotEquals("x", b.get("registration_access_token").asText());
    }

    @Test
    void requestedScopesAreKeptAndUnknownOnesRefused() {
        assertError(s.postJson("/register", "{\"redirect_uris\":[\"https://a.example/cb\"],\"scope\":\"mcp admin\"}"), 400,
                "invalid_client_metadata");
        JsonNode b = register(s, "{\"redirect_uris\":[\"https://a.example/cb\"],\"scope\":\"mcp\",\"token_endpoint_auth_method\":\"none\"}");
        assertEquals("mcp", b.get("scope").asText());
    }

    @Test
    void missingRedirectUrisIsInvalidRedirectUri() {
        assertError(s.postJson("/register", "{\"client_name\":\"x\"}"), 400, "invalid_redirect_uri");
        assertError(s.postJson("/register", "{\"redirect_uris\":[]}"), 400, "invalid_redirect_uri");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://app.example/cb", "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd",
        "https://*.example/cb", "/relative/cb", "https://chatgpt.com@evil.example/", "https://app.example/cb#frag",
        "http://127.0.0.1.nip.io/cb", "http://localhost.evil/cb"})
    void badRedirectUrisAreRefused(String uri) {
        assertError(s.postJson("/register", "{\"redirect_uris\":[\"" + uri + "\"]}"), 400, "invalid_redirect_uri");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"password\"]}",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"authorization_code\",\"implicit\"]}",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"response_types\":[\"token\"]}",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\"}",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"a\\u202Eb\"}",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":7}"})
    void unsupportedMetadataIsInvalidClientMetadata(String json) {
        assertError(s.postJson("/register", json), 400, "invalid_client_metadata");
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "{\"redirect_uris\":[\"https://a.example/cb\"]", "[1,2]", "\"text\"", "null",
        "{\"redirect_uris\":[\"https://a.example/cb\"],\"redirect_uris\":[\"https://b.example/cb\"]}",
        "{\"redirect_uris\":[\"https://a.example/cb\"]} trailing", "{\"a\":\"\\uZZZZ\"}"})
    void malformedJsonIs400NeverA500(String body) {
        assertError(s.postJson("/register", body), 400, "invalid_client_metadata");
    }

    @Test
    void deepNestingIs400() {
        String deep = "{\"redirect_uris\":[\"https://a.example/cb\"],\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        assertError(s.postJson("/register", deep), 400, "invalid_client_metadata");
    }

    @Test
    void emptyBodyAndWrongContentTypeAre400() {
        assertError(s.postJson("/register", ""), 400, "invalid_client_metadata");
        assertError(s.postForm("/register", TestServer.map("redirect_uris", "https://a.example/cb")), 400, "invalid_client_metadata");
        HttpResponse<String> noType = s.send(s.request("/register").POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertError(noType, 400, "invalid_client_metadata");
    }

    @Test
    void tooManyRedirectUrisIs400() {
        List<String> uris = new ArrayList<>();
        for (int i = 0; i < 21; i++) uris.add("\"https://a.example/cb" + i + "\"");
        assertError(s.postJson("/register", "{\"redirect_uris\":[" + String.join(",", uris) + "]}"), 400, "invalid_redirect_uri");
    }

    @Test
    void tenThousandRedirectUrisIsTooLarge() {
        List<String> uris = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) uris.add("\"https://a.example/cb" + i + "\"");
        assertError(s.postJson("/register", "{\"redirect_uris\":[" + String.join(",", uris) + "]}"), 413, "invalid_client_metadata");
        assertEquals(0, s.server.clients.count());
    }

    static String bigJson(int bytes) {
        return "{\"redirect_uris\":[\"https://a.example/cb\"],\"pad\":\"" + "x".repeat(bytes) + "\"}";
    }

    @Test
    void bodyOverTheLimitWithContentLengthIs413() {
        assertError(s.postJson("/register", bigJson(70 * 1024)), 413, "invalid_client_metadata");
        // a body just under the limit is fine
        assertEquals(201, s.postJson("/register", bigJson(60 * 1024).replace("\"pad\"", "\"token_endpoint_auth_method\":\"none\",\"pad\"")).statusCode());
    }

    @Test
    void chunkedBodyOverTheLimitIs413() {
        byte[] body = bigJson(200 * 1024).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> r = s.send(s.request("/register").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
        assertError(r, 413, "invalid_client_metadata");
        // a small chunked body works
        byte[] small = CLAUDE.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> ok = s.send(s.request("/register").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(small))));
        assertEquals(201, ok.statusCode(), ok.body());
    }

    @Test
    void getOnRegisterIs405() {
        HttpResponse<String> r = s.get("/register");
        assertError(r, 405, "invalid_request");
        assertEquals("POST", r.headers().firstValue("Allow").orElse(""));
    }

    @Test
    void browsersMayRegisterFromAnyOriginWithoutCredentials() {
        HttpResponse<String> pre = s.send(s.request("/register").method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://localhost:6274").header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type"));
        assertEquals(204, pre.statusCode());
        assertEquals("*", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase().contains("content-type"));
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Credentials").isEmpty());

        HttpResponse<String> ok = s.postJson("/register", CLAUDE, "Origin", "http://localhost:6274");
        assertEquals("*", ok.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        // errors are readable by the page too
        HttpResponse<String> bad = s.postJson("/register", "{}", "Origin", "http://localhost:6274");
        assertEquals(400, bad.statusCode());
        assertEquals("*", bad.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
    }

    @Test
    void applicationTypeIsStoredReturnedAndKeptAcrossARestart() {
        JsonNode nativeClient = register(s, CLAUDE.replace("\"scope\":\"mcp\"", "\"scope\":\"mcp\",\"application_type\":\"native\""));
        assertEquals("native", nativeClient.path("application_type").asText(), nativeClient.toString());
        String id = nativeClient.get("client_id").asText();
        assertEquals("native", s.server.clients.get(id).applicationType());
        JsonNode web = register(s, CLAUDE.replace("\"scope\":\"mcp\"", "\"scope\":\"mcp\",\"application_type\":\"web\""));
        assertEquals("web", s.server.clients.get(web.get("client_id").asText()).applicationType());
        // Clients of earlier MCP revisions send none: still accepted, nothing stored or returned.
        JsonNode none = register(s, CLAUDE);
        assertFalse(none.has("application_type"), none.toString());
        assertNull(s.server.clients.get(none.get("client_id").asText()).applicationType());
        // Only the two OpenID Connect values.
        HttpResponse<String> bad = s.postJson("/register", CLAUDE.replace("\"scope\":\"mcp\"", "\"scope\":\"mcp\",\"application_type\":\"desktop\""));
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("invalid_client_metadata", TestServer.json(bad).path("error").asText());
        s.close();
        s = TestServer.start(dir);
        assertEquals("native", s.server.clients.get(id).applicationType(), "kept in clients.json");
    }
}
