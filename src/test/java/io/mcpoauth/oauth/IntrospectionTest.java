package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static io.mcpoauth.oauth.RegistrationTest.assertNoNulls;
import static io.mcpoauth.oauth.RevocationTest.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.oauth.RegistrationManagementTest.Grant;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 7662 introspection over real HTTP: client callers, the admin token, and who may see which token. */
class IntrospectionTest {
    static final String ADMIN = "admin-token-0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;
    TestClock clock = new TestClock();
    TestServer s;
    JsonNode client;
    String clientId;

    @BeforeEach
    void start() {
        s = TestServer.start(dir, Map.of("ADMIN_TOKEN", ADMIN), clock);
        client = RegistrationTest.registerConfidential(s, "client_secret_post");
        clientId = client.get("client_id").asText();
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private HttpResponse<String> asClient(String token) {
        return s.postForm("/introspect", TestServer.map("client_id", clientId, "client_secret", client.get("client_secret").asText(),
                "token", token));
    }

    private HttpResponse<String> asAdmin(String token) {
        return s.postForm("/introspect", TestServer.map("token", token), "Authorization", "Bearer " + ADMIN);
    }

    static void assertInactive(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("{\"active\":false}", r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
    }

    @Test
    void anActiveAccessTokenIsDescribed() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        HttpResponse<String> r = asClient(g.accessToken());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        JsonNode b = TestServer.json(r);
        assertNoNulls(b);
        assertTrue(b.get("active").asBoolean());
        assertEquals(clientId, b.get("client_id").asText());
        assertEquals("mcp", b.get("scope").asText());
        assertEquals("Bearer", b.get("token_type").asText());
        assertEquals("user-1", b.get("sub").asText());
        assertEquals(s.server.settings.mcpResource(), b.get("aud").asText());
        assertEquals(s.url, b.get("iss").asText());
        long now = clock.instant().getEpochSecond();
        assertEquals(now + 3600, b.get("exp").asLong(), 1);
        assertEquals(now, b.get("iat").asLong(), 1);
    }

    @Test
    void anActiveRefreshTokenIsDescribedWithTheFamilyExpiry() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        JsonNode b = TestServer.json(asClient(g.refreshToken()));
        assertNoNulls(b);
        assertTrue(b.get("active").asBoolean());
        assertEquals("refresh_token", b.get("token_type").asText());
        assertEquals(clientId, b.get("client_id").asText());
        assertEquals("user-1", b.get("sub").asText());
        assertEquals(s.server.refreshTokens.get(g.familyId()).expiresAt().getEpochSecond(), b.get("exp").asLong());
        // the hint only changes the lookup order
        JsonNode hinted = TestServer.json(s.postForm("/introspect", TestServer.map("client_id", clientId,
                "client_secret", client.get("client_secret").asText(), "token", g.refreshToken(), "token_type_hint", "access_token")));
        assertTrue(hinted.get("active").asBoolean());
    }

    @Test
    void unknownExpiredRevokedAndForeignTokensAreJustInactive() {
        JsonNode other = RegistrationTest.registerConfidential(s, "client_secret_basic");
        Grant theirs = RegistrationManagementTest.grant(s, other.get("client_id").asText());
        assertInactive(asClient("garbage"));
        assertInactive(asClient("mcpat_unknown"));
        assertInactive(asClient(theirs.accessToken()));
        assertInactive(asClient(theirs.refreshToken()));

        Grant g = RegistrationManagementTest.grant(s, clientId);
        s.server.refreshTokens.revoke(g.familyId());
        assertInactive(asClient(g.accessToken()));   // its grant is gone
        assertInactive(asClient(g.refreshToken()));

        Grant h = RegistrationManagementTest.grant(s, clientId);
        clock.advance(Duration.ofSeconds(3601));
        assertInactive(asClient(h.accessToken()));   // expired
        assertTrue(TestServer.json(asClient(h.refreshToken())).get("active").asBoolean());
        clock.advance(s.server.settings.refreshTokenTtl);
        assertInactive(asClient(h.refreshToken()));
    }

    @Test
    void theAdminTokenSeesEveryClientsTokens() {
        JsonNode other = RegistrationTest.registerPublic(s);
        Grant theirs = RegistrationManagementTest.grant(s, other.get("client_id").asText());
        JsonNode b = TestServer.json(asAdmin(theirs.accessToken()));
        assertTrue(b.get("active").asBoolean());
        assertEquals(other.get("client_id").asText(), b.get("client_id").asText());
        assertInactive(asAdmin("unknown"));
        HttpResponse<String> wrong = s.postForm("/introspect", TestServer.map("token", theirs.accessToken()),
                "Authorization", "Bearer " + ADMIN + "x");
        assertError(wrong, 401, "invalid_token");
        assertEquals("Bearer error=\"invalid_token\"", wrong.headers().firstValue("WWW-Authenticate").orElse(""));
    }

    @Test
    void withoutAnAdminTokenConfiguredBearerIsRefused(@TempDir Path other) {
        try (TestServer plain = TestServer.start(other)) {
            HttpResponse<String> r = plain.postForm("/introspect", TestServer.map("token", "x"), "Authorization", "Bearer " + ADMIN);
            assertError(r, 401, "invalid_token");
            assertTrue(TestServer.json(r).get("error_description").asText().contains("ADMIN_TOKEN"));
        }
    }

    @Test
    void unauthenticatedCallersAndPublicClientsGet401() {
        Grant g = RegistrationManagementTest.grant(s, clientId);
        HttpResponse<String> none = s.postForm("/introspect", TestServer.map("token", g.accessToken()));
        assertError(none, 401, "invalid_client");
        assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
        assertError(s.postForm("/introspect", TestServer.map("token", g.accessToken(), "client_id", clientId,
                "client_secret", "wrong")), 401, "invalid_client");
        assertError(s.postForm("/introspect", TestServer.map("token", g.accessToken()), "Authorization", basic(clientId, "wrong")),
                401, "invalid_client");

        JsonNode pub = RegistrationTest.registerPublic(s);
        Grant pg = RegistrationManagementTest.grant(s, pub.get("client_id").asText());
        HttpResponse<String> r = s.postForm("/introspect", TestServer.map("client_id", pub.get("client_id").asText(), "token", pg.accessToken()));
        assertError(r, 401, "invalid_client");
        assertTrue(TestServer.json(r).get("error_description").asText().contains("Public clients"));
    }

    @Test
    void missingTokenIs400() {
        assertError(s.postForm("/introspect", TestServer.map("client_id", clientId, "client_secret",
                client.get("client_secret").asText())), 400, "invalid_request");
        assertError(s.get("/introspect"), 405, "invalid_request");
    }
}
