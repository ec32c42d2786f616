package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole story over real HTTP: register, authorize, sign in, consent, token, refresh, restart, refresh again without a sign-in or consent. */
class AuthorizationStoryTest {
    @TempDir
    Path dir;

    @Test
    void refreshWorksAfterRestartWithoutSignInOrConsent() {
        String refresh;
        String clientId;
        Map<String, String> env = Map.of("PORT", String.valueOf(TestServer.freePort()));
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim c = new OAuthClientSim(s);
            OAuthClientSim.addUser(s, "alice", "correct horse battery");
            c.register("none");
            clientId = c.clientId;
            Map<String, String> back = c.authorize("alice", "correct horse battery", "allow");
            assertEquals(c.state, back.get("state"));
            assertEquals(s.url, back.get("iss"));
            assertEquals(1, c.loginPages);
            assertEquals(1, c.consentPages);
            HttpResponse<String> tr = c.exchange(back.get("code"));
            assertEquals(200, tr.statusCode(), tr.body());
            assertEquals("no-store", tr.headers().firstValue("Cache-Control").orElse(""));
            JsonNode t = TestServer.json(tr);
            assertTrue(t.get("access_token").asText().startsWith("mcpat_"));
            assertEquals("Bearer", t.get("token_type").asText());
            assertEquals(3600, t.get("expires_in").asInt());
            assertEquals("mcp", t.get("scope").asText());
            assertNotNull(s.server.bearer.authenticate(t.get("access_token").asText()));
            HttpResponse<String> rr = c.refresh(t.get("refresh_token").asText());
            assertEquals(200, rr.statusCode(), rr.body());
            refresh = TestServer.json(rr).get("refresh_token").asText();
            assertNotEquals(t.get("refresh_token").asText(), refresh);
        }
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.clientId = clientId;
            HttpResponse<String> rr = c.refresh(refresh);
            assertEquals(200, rr.statusCode(), rr.body());
            JsonNode t = TestServer.json(rr);
            assertEquals("alice", s.server.bearer.authenticate(t.get("access_token").asText()).username());
            assertEquals(0, c.loginPages);
            assertEquals(0, c.consentPages);
        }
    }
}
