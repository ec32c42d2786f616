package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.http.OAuthError;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /token} request shape over real HTTP: method, content type, grant types, repeated parameters, PKCE verifier,
 * response headers and body, body size.
 */
class TokenEndpointTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    static Path dir;
    static TestServer s;
    static OAuthClientSim c;

    @BeforeAll
    static void start() {
        s = TestServer.start(dir);
        OAuthClientSim.addUser(s, "alice", PASSWORD);
        c = new OAuthClientSim(s);
        c.registerDirect();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    /** A fresh code for {@link #c} (the browser stays signed in and consent is remembered after the first). */
    static String code() {
        return c.authorize("alice", PASSWORD, "allow").get("code");
    }

    static JsonNode error(HttpResponse<String> r, int status, String error) {
        assertEquals(status, r.statusCode(), r.body());
        noStore(r);
        JsonNode body = TestServer.json(r);
        assertEquals(error, body.path("error").asText(), r.body());
        assertTrue(body.path("error_description").isTextual(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().map().toString());
        noNulls(body);
        return body;
    }

    /** No caching: on every token response, success or error. */
    static void noStore(HttpResponse<String> r) {
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null), r.statusCode() + " " + r.body());
        assertEquals("no-cache", r.headers().firstValue("Pragma").orElse(null), r.statusCode() + " " + r.body());
    }

    static void noNulls(JsonNode n) {
        assertFalse(n.isNull(), "JSON null in a token response");
        if (n.isContainerNode()) {
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) noNulls(it.next());
        }
    }

    static HttpResponse<String> postRaw(String body, String contentType) {
        return s.send(s.request("/token").header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void getAtTheTokenEndpointIs405AllowPost() {
        HttpResponse<String> r = s.get("/token");
        error(r, 405, OAuthError.INVALID_REQUEST);
        assertEquals("POST", r.headers().firstValue("Allow").orElse(null));
        HttpResponse<String> q = s.get("/token?grant_type=authorization_code&code=x&client_id=" + c.clientId);
        assertEquals(405, q.statusCode());
    }

    @Test
    void putDeleteAndPatchAreRefused() {
        for (String m : List.of("PUT", "DELETE", "PATCH")) {
            HttpResponse<String> r = s.send(s.request("/token").method(m, HttpRequest.BodyPublishers.ofString("grant_type=refresh_token"))
                    .header("Content-Type", "application/x-www-form-urlencoded"));
            assertTrue(r.statusCode() == 405 || r.statusCode() == 404, m + " -> " + r.statusCode());
        }
    }

    @Test
    void jsonOrMissingContentTypeIsInvalidRequest() {
        String json = "{\"grant_type\":\"authorization_code\",\"code\":\"x\",\"client_id\":\"" + c.clientId + "\"}";
        error(postRaw(json, "application/json"), 400, OAuthError.INVALID_REQUEST);
        error(postRaw("grant_type=refresh_token", "text/plain"), 400, OAuthError.INVALID_REQUEST);
        error(s.send(s.request("/token").POST(HttpRequest.BodyPublishers.ofString("grant_type=refresh_token"))), 400, OAuthError.INVALID_REQUEST);
        error(postRaw("", "application/x-www-form-urlencoded"), 400, OAuthError.INVALID_REQUEST);
        // the charset parameter is fine
        error(postRaw("grant_type=password&client_id=" + c.clientId, "application/x-www-form-urlencoded; charset=UTF-8"), 400,
                OAuthError.UNSUPPORTED_GRANT_TYPE);
    }

    @Test
    void missingGrantTypeIsInvalidRequestUnknownIsUnsupportedGrantType() {
        error(c.token(TestServer.map("code", "x")), 400, OAuthError.INVALID_REQUEST);
        error(c.token(TestServer.map("grant_type", "")), 400, OAuthError.INVALID_REQUEST);
        for (String g : List.of("password", "implicit", "client_credentials", "token", "urn:ietf:params:oauth:grant-type:device_code",
                "AUTHORIZATION_CODE", "authorization_code ", "<script>")) {
            JsonNode e = error(c.token(TestServer.map("grant_type", g, "username", "alice", "password", PASSWORD)), 400,
                    OAuthError.UNSUPPORTED_GRANT_TYPE);
            assertFalse(e.get("error_description").asText().contains("<"), e.toString());
        }
    }

    @Test
    void malformedFormIsInvalidRequestNot500() {
        for (String body : List.of("grant_type=%zz", "grant_type=%C3%28", "grant_type=authorization_code&code=%", "&&&=&=x")) {
            HttpResponse<String> r = postRaw(body, "application/x-www-form-urlencoded");
            assertEquals(400, r.statusCode(), body + " -> " + r.body());
            noStore(r);
        }
    }

    @Test
    void repeatedFormParametersAreInvalidRequest() {
        String code = code();
        String base = "grant_type=authorization_code&code=" + code + "&code_verifier=" + c.verifier + "&redirect_uri="
                + TestServer.enc(c.redirectUri) + "&client_id=" + c.clientId;
        for (String extra : List.of("&grant_type=authorization_code", "&code=" + code, "&code_verifier=" + c.verifier,
                "&redirect_uri=" + TestServer.enc(c.redirectUri), "&client_id=" + c.clientId, "&client_id=other", "&code=",
                "&resource=a&resource=b", "&scope=mcp&scope=mcp")) {
            JsonNode e = error(postRaw(base + extra, "application/x-www-form-urlencoded"), 400, OAuthError.INVALID_REQUEST);
            assertTrue(e.get("error_description").asText().contains("more than once"), e.toString());
        }
        // none of those consumed the code
        HttpResponse<String> ok = postRaw(base, "application/x-www-form-urlencoded");
        assertEquals(200, ok.statusCode(), ok.body());
        // refresh requests too
        String rt = TestServer.json(ok).get("refresh_token").asText();
        error(postRaw("grant_type=refresh_token&refresh_token=" + rt + "&refresh_token=" + rt + "&client_id=" + c.clientId,
                "application/x-www-form-urlencoded"), 400, OAuthError.INVALID_REQUEST);
        assertEquals(200, c.refresh(rt).statusCode(), "the refused request did not rotate the token");
    }

    @Test
    void wrongVerifierIsInvalidGrantAndMissingIsInvalidRequest() {
        String code = code();
        String verifier = c.verifier;
        // missing first: invalid_request, and the code is still usable
        error(c.token(TestServer.map("grant_type", "authorization_code", "code", code, "redirect_uri", c.redirectUri)), 400,
                OAuthError.INVALID_REQUEST);
        error(c.token(TestServer.map("grant_type", "authorization_code", "code", code, "code_verifier", "", "redirect_uri", c.redirectUri)),
                400, OAuthError.INVALID_REQUEST);
        c.verifier = verifier;
        assertEquals(200, c.exchange(code).statusCode());

        for (String wrong : List.of("x".repeat(43), verifier + "a", verifier.substring(1), OAuthClientSim.challenge(verifier), "short",
                "%%%".repeat(20), verifier.toUpperCase())) {
            String another = code();
            HttpResponse<String> r = c.token(TestServer.map("grant_type", "authorization_code", "code", another, "code_verifier", wrong,
                    "redirect_uri", c.redirectUri));
            error(r, 400, OAuthError.INVALID_GRANT);
        }
    }

    @Test
    void successfulResponsesAreNotCachedAndComplete() {
        String code = code();
        HttpResponse<String> r = c.exchange(code);
        assertEquals(200, r.statusCode(), r.body());
        noStore(r);
        JsonNode t = TestServer.json(r);
        noNulls(t);
        assertTrue(t.get("access_token").isTextual());
        assertEquals("Bearer", t.get("token_type").asText());
        assertTrue(t.get("expires_in").isIntegralNumber() && t.get("expires_in").asLong() > 0, t.toString());
        assertTrue(t.get("refresh_token").isTextual());
        assertEquals("mcp", t.get("scope").asText());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        HttpResponse<String> rr = c.refresh(t.get("refresh_token").asText());
        assertEquals(200, rr.statusCode());
        noStore(rr);
        JsonNode t2 = TestServer.json(rr);
        noNulls(t2);
        assertTrue(t2.get("expires_in").asLong() > 0);
        assertTrue(t2.get("refresh_token").isTextual());
    }

    @Test
    void clientWithoutRefreshGrantGetsNoNullRefreshToken() {
        OAuthClientSim noRefresh = new OAuthClientSim(s);
        noRefresh.clientId = io.mcpoauth.core.Secrets.mint(io.mcpoauth.core.Secrets.CLIENT_ID);
        s.server.clients.put(new io.mcpoauth.store.ClientRecord(noRefresh.clientId, "No refresh", List.of(OAuthClientSim.REDIRECT),
                List.of("authorization_code"), List.of("code"), "none", null, null, null, null, java.time.Instant.now(), null, null, null));
        noRefresh.cookie = c.cookie;
        code(); // make sure c's browser is signed in
        noRefresh.cookie = c.cookie;
        Map<String, String> back = noRefresh.authorize("alice", PASSWORD, "allow");
        HttpResponse<String> r = noRefresh.exchange(back.get("code"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode t = TestServer.json(r);
        noNulls(t);
        assertFalse(t.has("refresh_token"), t.toString());
        assertTrue(t.get("expires_in").asLong() > 0);
        noStore(r);
    }

    @Test
    void bodyOverTheLimitIs413WithContentLengthAndChunked() throws Exception {
        HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        byte[] justOver = ("grant_type=authorization_code&client_id=" + c.clientId + "&code=" + "a".repeat(64 * 1024)).getBytes(StandardCharsets.US_ASCII);
        byte[] mib = ("grant_type=authorization_code&pad=" + "b".repeat(1000 * 1024)).getBytes(StandardCharsets.US_ASCII);
        for (byte[] body : List.of(justOver, mib)) {
            for (boolean chunked : new boolean[] {false, true}) {
                HttpRequest.BodyPublisher p = chunked
                        ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))
                        : HttpRequest.BodyPublishers.ofByteArray(body);
                for (String path : List.of("/token", "/login", "/consent")) {
                    HttpResponse<String> r = h1.send(HttpRequest.newBuilder(java.net.URI.create(s.url + path)).timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/x-www-form-urlencoded").POST(p).build(), HttpResponse.BodyHandlers.ofString());
                    String what = path + " " + body.length + " bytes " + (chunked ? "chunked" : "with Content-Length");
                    assertEquals(413, r.statusCode(), what + ": " + r.body());
                    if (path.equals("/token")) {
                        error(r, 413, OAuthError.INVALID_REQUEST);
                    } else {
                        io.mcpoauth.login.PageAsserts.securityHeaders(r);
                    }
                }
            }
        }
        // far over the limit: refused without reading it all; the client may see the 413 or a closed connection
        byte[] huge = ("grant_type=authorization_code&pad=" + "b".repeat(16 * 1024 * 1024)).getBytes(StandardCharsets.US_ASCII);
        for (boolean chunked : new boolean[] {false, true}) {
            HttpRequest.BodyPublisher p = chunked
                    ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge))
                    : HttpRequest.BodyPublishers.ofByteArray(huge);
            try {
                HttpResponse<String> r = h1.send(HttpRequest.newBuilder(java.net.URI.create(s.url + "/token")).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/x-www-form-urlencoded").POST(p).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(413, r.statusCode(), r.body());
            } catch (java.io.IOException closed) {
                // acceptable: the server stopped reading and closed the connection
            }
        }
        // just under the limit is read and judged on its content
        String under = "grant_type=authorization_code&client_id=" + c.clientId + "&code_verifier=" + c.verifier + "&code=" + "a".repeat(60 * 1024);
        error(postRaw(under, "application/x-www-form-urlencoded"), 400, OAuthError.INVALID_GRANT);
        // and the server is still fine
        assertNotNull(c.exchange(code()).body());
    }
}
