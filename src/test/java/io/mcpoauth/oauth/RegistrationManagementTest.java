package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static io.mcpoauth.oauth.RegistrationTest.assertNoNulls;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.TestServer;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.AccessToken;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 7592 client management over real HTTP: read, update and delete with the registration access token. */
class RegistrationManagementTest {
    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        s.close();
    }

    /** A live grant (refresh-token family) and one access token of it, for {@code clientId}. */
    record Grant(String familyId, String refreshToken, String accessToken) {}

    static Grant grant(TestServer s, String clientId) {
        Instant now = s.server.clock.instant();
        RefreshTokens.Issued issued = s.server.refreshTokens.create(clientId, "user-1", "mcp", s.server.settings.mcpResource(), true, now);
        String at = s.server.accessTokens.issue(new AccessToken(clientId, "user-1", Set.of("mcp"), s.server.settings.mcpResource(),
                issued.family().familyId(), now.plusSeconds(3600)), now);
        return new Grant(issued.family().familyId(), issued.refreshToken(), at);
    }

    private HttpResponse<String> read(String uri, String token) {
        HttpRequest.Builder b = s.request(uri).GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return s.send(b);
    }

    private HttpResponse<String> put(String uri, String token, String json) {
        return s.send(s.request(uri).header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpResponse<String> delete(String uri, String token) {
        HttpRequest.Builder b = s.request(uri).DELETE();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return s.send(b);
    }

    @Test
    void readReturnsTheRegistrationWithoutSecrets() {
        JsonNode reg = RegistrationTest.registerConfidential(s, "client_secret_basic");
        HttpResponse<String> r = read(reg.get("registration_client_uri").asText(), reg.get("registration_access_token").asText());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        JsonNode b = TestServer.json(r);
        assertNoNulls(b);
        assertEquals(reg.get("client_id"), b.get("client_id"));
        assertEquals(reg.get("client_id_issued_at"), b.get("client_id_issued_at"));
        assertEquals(reg.get("redirect_uris"), b.get("redirect_uris"));
        assertEquals(reg.get("grant_types"), b.get("grant_types"));
        assertEquals(reg.get("token_endpoint_auth_method"), b.get("token_endpoint_auth_method"));
        assertEquals(reg.get("registration_client_uri"), b.get("registration_client_uri"));
        assertEquals(0, b.get("client_secret_expires_at").asLong());
        assertFalse(b.has("client_secret"));
        assertFalse(b.has("registration_access_token"));
    }

    @Test
    void missingWrongOrForeignTokenAndUnknownClientAreAll401InvalidToken() {
        JsonNode a = RegistrationTest.registerPublic(s);
        JsonNode b = RegistrationTest.registerPublic(s);
        String uriA = a.get("registration_client_uri").asText();

        HttpResponse<String> missing = read(uriA, null);
        assertError(missing, 401, "invalid_token");
        assertTrue(missing.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));

        HttpResponse<String> wrong = read(uriA, "mcpreg_wrong");
        assertError(wrong, 401, "invalid_token");
        assertEquals("Bearer error=\"invalid_token\"", wrong.headers().firstValue("WWW-Authenticate").orElse(""));

        HttpResponse<String> foreign = read(uriA, b.get("registration_access_token").asText());
        HttpResponse<String> unknown = read(s.url + "/register/mcpc_doesnotexist", b.get("registration_access_token").asText());
        assertError(foreign, 401, "invalid_token");
        assertError(unknown, 401, "invalid_token");
        assertEquals(foreign.body(), unknown.body(), "an unknown id looks exactly like a wrong token");

        HttpResponse<String> basic = s.send(s.request(uriA).header("Authorization", "Basic eDp5").GET());
        assertError(basic, 401, "invalid_token");

        assertError(delete(uriA, "mcpreg_wrong"), 401, "invalid_token");
        assertError(put(uriA, "mcpreg_wrong", "{}"), 401, "invalid_token");
        assertNotNull(s.server.clients.get(a.get("client_id").asText()), "nothing changed");
    }

    @Test
    void updateRevalidatesAndKeepsIdentitySecretAndCreationTime() {
        JsonNode reg = RegistrationTest.registerConfidential(s, "client_secret_basic");
        String id = reg.get("client_id").asText();
        String uri = reg.get("registration_client_uri").asText();
        String token = reg.get("registration_access_token").asText();
        String hashBefore = s.server.clients.get(id).clientSecretHash();

        HttpResponse<String> r = put(uri, token, "{\"client_id\":\"" + id + "\",\"client_name\":\"Renamed\","
                + "\"redirect_uris\":[\"https://app.example/new-cb\"],\"token_endpoint_auth_method\":\"client_secret_post\","
                + "\"unknown_field\":true}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = TestServer.json(r);
        assertNoNulls(b);
        assertEquals(id, b.get("client_id").asText());
        assertEquals("Renamed", b.get("client_name").asText());
        assertEquals("[\"https://app.example/new-cb\"]", b.get("redirect_uris").toString());
        assertEquals("client_secret_post", b.get("token_endpoint_auth_method").asText());
        assertEquals(reg.get("client_id_issued_at"), b.get("client_id_issued_at"));
        assertFalse(b.has("client_secret"));
        assertFalse(b.has("unknown_field"));
        assertEquals(hashBefore, s.server.clients.get(id).clientSecretHash());
        // the same token still manages it, and the stored record reflects the update
        assertEquals("Renamed", TestServer.json(read(uri, token)).get("client_name").asText());
        assertEquals("[https://app.example/new-cb]", s.server.clients.get(id).redirectUris().toString());
    }

    @Test
    void updateRefusesMismatchedIdBadSecretBadMetadataAndASwitchToPublic() {
        JsonNode reg = RegistrationTest.registerConfidential(s, "client_secret_basic");
        String id = reg.get("client_id").asText();
        String uri = reg.get("registration_client_uri").asText();
        String token = reg.get("registration_access_token").asText();
        String good = "{\"client_id\":\"" + id + "\",\"redirect_uris\":[\"https://app.example/cb\"]}";

        assertError(put(uri, token, "{\"redirect_uris\":[\"https://app.example/cb\"]}"), 400, "invalid_client_metadata");
        assertError(put(uri, token, good.replace(id, "mcpc_other")), 400, "invalid_client_metadata");
        assertError(put(uri, token, good.replace("{", "{\"client_secret\":\"wrong\",")), 400, "invalid_client_metadata");
        assertError(put(uri, token, good.replace("https://app.example/cb", "http://evil.example/cb")), 400, "invalid_redirect_uri");
        assertError(put(uri, token, good.replace("{", "{\"token_endpoint_auth_method\":\"none\",")), 400, "invalid_client_metadata");
        assertError(put(uri, token, "not json"), 400, "invalid_client_metadata");
        // the right secret is accepted
        ObjectNode withSecret = (ObjectNode) TestServer.json(put(uri, token, good.replace("{", "{\"client_secret\":\""
                + reg.get("client_secret").asText() + "\",")));
        assertEquals(id, withSecret.get("client_id").asText());
    }

    @Test
    void deleteRemovesTheClientAndEveryGrantItHoldsButNoOtherClients() {
        JsonNode a = RegistrationTest.registerPublic(s);
        JsonNode other = RegistrationTest.registerPublic(s);
        String id = a.get("client_id").asText();
        Grant g1 = grant(s, id);
        Grant g2 = grant(s, id);
        Grant keep = grant(s, other.get("client_id").asText());
        Instant now = s.server.clock.instant();

        HttpResponse<String> r = delete(a.get("registration_client_uri").asText(), a.get("registration_access_token").asText());
        assertEquals(204, r.statusCode(), r.body());
        assertTrue(r.body().isEmpty());
        assertNull(s.server.clients.get(id));
        assertNull(s.server.refreshTokens.get(g1.familyId()));
        assertNull(s.server.refreshTokens.get(g2.familyId()));
        assertNull(s.server.accessTokens.find(g1.accessToken(), now));
        assertNull(s.server.accessTokens.find(g2.accessToken(), now));
        assertNotNull(s.server.refreshTokens.find(keep.refreshToken(), now));
        assertNotNull(s.server.accessTokens.find(keep.accessToken(), now));
        // gone for good, also across a restart
        assertError(read(a.get("registration_client_uri").asText(), a.get("registration_access_token").asText()), 401, "invalid_token");
        s.close();
        s = TestServer.start(dir);
        assertNull(s.server.clients.get(id));
        assertNull(s.server.refreshTokens.get(g1.familyId()));
        assertNotNull(s.server.refreshTokens.get(keep.familyId()));
    }
}
