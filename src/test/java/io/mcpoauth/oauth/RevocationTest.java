package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestServer;
import io.mcpoauth.oauth.RegistrationManagementTest.Grant;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 7009 revocation over real HTTP: refresh and access tokens, hints, other clients' tokens. */
class RevocationTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashCopy;
    TestServer s;
    JsonNode client;
    String clientId;

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
        client = RegistrationTest.registerConfidential(s, "client_secret_basic");
        clientId = client.get("client_id").asText();
    }

    @AfterEach
    void stop() {
        s.close();
    }

    static String basic(String id, String secret) {
        return "Basic " + Base64.getEncoder().encodeToString((TestServer.enc(id) + ":" + TestServer.enc(secret)).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> revoke(Map<String, String> form) {
        return s.postForm("/revoke", form, "Authorization", basic(clientId, client.get("client_secret").asText()));
    }

    private Instant now() {
        return s.server.clock.instant();
    }

    @Test
    void revokingARefreshTokenEndsItsGrantAndItsAccessTokens() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        Grant other = RegistrationManagementTest.grant(s, clientId);
        HttpResponse<String> r = revoke(TestServer.map("token", g.refreshToken(), "token_type_hint", "refresh_token"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        assertNull(s.server.refreshTokens.get(g.familyId()));
        assertNull(s.server.accessTokens.find(g.accessToken(), now()));
        // the client's other grant is untouched
        assertNotNull(s.server.refreshTokens.find(other.refreshToken(), now()));
        assertNotNull(s.server.accessTokens.find(other.accessToken(), now()));
        // revoking again is still 200
        assertEquals(200, revoke(TestServer.map("token", g.refreshToken())).statusCode());
    }

    @Test
    void theRevocationIsOnDiskWhenThe200Arrives() throws IOException {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        assertEquals(200, revoke(TestServer.map("token", g.refreshToken())).statusCode());
        // What is on disk right now is what a kill -9 would leave: copy it while the server still runs, open the copy.
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) Files.copy(p, crashCopy.resolve(p.getFileName()));
        }
        try (TestServer after = TestServer.start(crashCopy)) {
            assertNull(after.server.refreshTokens.get(g.familyId()));
            assertNotNull(after.server.clients.get(clientId));
        }
    }

    @Test
    void revokingAnAccessTokenEndsOnlyThatToken() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        assertEquals(200, revoke(TestServer.map("token", g.accessToken(), "token_type_hint", "access_token")).statusCode());
        assertNull(s.server.accessTokens.find(g.accessToken(), now()));
        assertNotNull(s.server.refreshTokens.find(g.refreshToken(), now()));
    }

    @Test
    void theHintIsOnlyAHint() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        assertEquals(200, revoke(TestServer.map("token", g.refreshToken(), "token_type_hint", "access_token")).statusCode());
        assertNull(s.server.refreshTokens.get(g.familyId()));
        Grant h = RegistrationManagementTest.grant(s, clientId);
        assertEquals(200, revoke(TestServer.map("token", h.accessToken(), "token_type_hint", "refresh_token")).statusCode());
        assertNull(s.server.accessTokens.find(h.accessToken(), now()));
        Grant i = RegistrationManagementTest.grant(s, clientId);
        assertEquals(200, revoke(TestServer.map("token", i.accessToken(), "token_type_hint", "something_else")).statusCode());
        assertNull(s.server.accessTokens.find(i.accessToken(), now()));
    }

    @Test
    void unknownTokensAndOtherClientsTokensGet200AndStayValid() {
        JsonNode other = RegistrationTest.registerPublic(s);
        Grant theirs = RegistrationManagementTest.grant(s, other.get("client_id").asText());
        for (String t : new String[] {"garbage", "mcprt_nofamily.x", "mcpat_unknown", theirs.refreshToken(), theirs.accessToken(),
            "x".repeat(5000)}) {
            HttpResponse<String> r = revoke(TestServer.map("token", t));
            assertEquals(200, r.statusCode(), r.body());
        }
        assertNotNull(s.server.refreshTokens.find(theirs.refreshToken(), now()));
        assertNotNull(s.server.accessTokens.find(theirs.accessToken(), now()));
    }

    @Test
    void aPublicClientRevokesItsOwnTokenWithJustItsClientId() {
        JsonNode pub = RegistrationTest.registerPublic(s);
        String id = pub.get("client_id").asText();
        Grant g = RegistrationManagementTest.grant(s, id);
        HttpResponse<String> r = s.postForm("/revoke", TestServer.map("client_id", id, "token", g.refreshToken()));
        assertEquals(200, r.statusCode(), r.body());
        assertNull(s.server.refreshTokens.get(g.familyId()));
    }

    @Test
    void missingTokenIs400AndBadCredentialsAre401() {
        assertError(revoke(Map.of()), 400, "invalid_request");
        assertError(revoke(TestServer.map("token", "")), 400, "invalid_request");
        Grant g = RegistrationManagementTest.grant(s, clientId);
        HttpResponse<String> r = s.postForm("/revoke", TestServer.map("token", g.refreshToken()), "Authorization", basic(clientId, "wrong"));
        assertError(r, 401, "invalid_client");
        assertEquals("Basic realm=\"mcp-oauth-server\"", r.headers().firstValue("WWW-Authenticate").orElse(""));
        assertError(s.postForm("/revoke", TestServer.map("token", g.refreshToken())), 401, "invalid_client");
        assertNotNull(s.server.refreshTokens.find(g.refreshToken(), now()), "nothing revoked without authentication");
    }

    @Test
    void onlyFormBodiesAreAccepted() {
        assertError(s.postJson("/revoke", "{\"token\":\"x\"}", "Authorization", basic(clientId, client.get("client_secret").asText())),
                400, "invalid_request");
        HttpResponse<String> dup = s.send(s.request("/revoke").header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", basic(clientId, client.get("client_secret").asText()))
                .POST(HttpRequest.BodyPublishers.ofString("token=a&token=b")));
        assertError(dup, 400, "invalid_request");
        HttpResponse<String> get = s.get("/revoke");
        assertError(get, 405, "invalid_request");
    }

    @Test
    void bodiesOverTheLimitAre413EvenChunked() {
        String big = "token=" + "x".repeat(70 * 1024);
        String auth = basic(clientId, client.get("client_secret").asText());
        HttpResponse<String> sized = s.send(s.request("/revoke").header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", auth).POST(HttpRequest.BodyPublishers.ofString(big)));
        assertError(sized, 413, "invalid_request");
        byte[] bytes = big.getBytes(StandardCharsets.US_ASCII);
        HttpResponse<String> chunked = s.send(s.request("/revoke").header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", auth).POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(bytes))));
        assertError(chunked, 413, "invalid_request");
    }

    @Test
    void browsersMayRevoke() {
        HttpResponse<String> pre = s.send(s.request("/revoke").method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://localhost:6274").header("Access-Control-Request-Method", "POST"));
        assertEquals(204, pre.statusCode());
        assertEquals("*", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        HttpResponse<String> r = revoke(TestServer.map("token", "unknown"));
        assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertTrue(r.headers().firstValue("Access-Control-Expose-Headers").orElse("").contains("WWW-Authenticate"));
    }
}
