package io.mcpoauth.ops;

import static io.mcpoauth.OpsFixture.ADMIN_TOKEN;
import static io.mcpoauth.OpsFixture.PASSWORD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.OpsFixture;
import io.mcpoauth.Server;
import io.mcpoauth.TestServer;
import io.mcpoauth.admin.AdminSocket;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log: one JSON line per security event, the same fields on every line, and never a secret. */
class AuditLogTest {
    @TempDir
    Path dir;

    @Test
    void aFullFlowIsAuditedWithoutASingleSecret() throws IOException {
        Path audit = dir.resolve("logs").resolve("audit.log");
        List<String> secrets = new ArrayList<>(List.of(PASSWORD, ADMIN_TOKEN));
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN, "AUDIT_LOG", audit.toString()))) {
            secrets.add(AdminSocket.read(s.dataDir).token());
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            JsonNode reg = c.register("client_secret_basic");
            secrets.add(c.clientSecret);
            String registrationToken = reg.get("registration_access_token").asText();
            secrets.add(registrationToken);

            // a wrong password
            HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
            Map<String, String> form = OAuthClientSim.hiddenFields(page.body());
            form.put("username", "alice");
            form.put("password", "wrong password " + PASSWORD);
            secrets.add(form.get("password"));
            assertEquals(401, c.browserPost("/login", form).statusCode());

            // consent refused
            c.cookie = null;
            assertEquals("access_denied", c.authorize("alice", PASSWORD, "deny").get("error"));
            // consent given, tokens
            c.cookie = null;
            String code = c.authorize("alice", PASSWORD, "allow").get("code");
            secrets.add(code);
            JsonNode t = TestServer.json(c.exchange(code));
            String rt0 = t.get("refresh_token").asText();
            secrets.add(t.get("access_token").asText());
            secrets.add(rt0);
            JsonNode t1 = TestServer.json(c.refresh(rt0));
            secrets.add(t1.get("access_token").asText());
            secrets.add(t1.get("refresh_token").asText());
            JsonNode t2 = TestServer.json(c.refresh(t1.get("refresh_token").asText()));
            secrets.add(t2.get("access_token").asText());
            secrets.add(t2.get("refresh_token").asText());
            assertEquals(400, c.refresh(rt0).statusCode(), "reuse");

            // a second grant (consent remembered), revoked by the client
            String code2 = c.authorize("alice", PASSWORD, "allow").get("code");
            secrets.add(code2);
            JsonNode t3 = TestServer.json(c.exchange(code2));
            secrets.add(t3.get("access_token").asText());
            secrets.add(t3.get("refresh_token").asText());
            HttpResponse<String> revoked = s.send(s.request("/revoke").header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Authorization", basic(c.clientId, c.clientSecret))
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + t3.get("refresh_token").asText())));
            assertEquals(200, revoked.statusCode(), revoked.body());

            // an API key: created, used, revoked, refused
            JsonNode key = TestServer.json(OpsFixture.admin(s, "POST", "/apikeys", "{\"user\":\"alice\",\"name\":\"ci\"}", ADMIN_TOKEN));
            String apiKey = key.get("key").asText();
            secrets.add(apiKey);
            secrets.add(apiKey.substring(apiKey.indexOf('.') + 1));
            assertEquals(200, OpsFixture.callTool(s, apiKey, "whoami").statusCode());
            assertEquals(200, OpsFixture.admin(s, "DELETE", "/apikeys/" + key.path("api_key").get("id").asText(), null, ADMIN_TOKEN).statusCode());
            assertEquals(401, OpsFixture.callTool(s, apiKey, "whoami").statusCode());

            // clients removed: by the client (RFC 7592) and by the admin
            assertEquals(204, s.send(s.request("/register/" + c.clientId).header("Authorization", "Bearer " + registrationToken).DELETE())
                    .statusCode());
            OAuthClientSim other = new OAuthClientSim(s);
            other.register("none");
            assertEquals(200, OpsFixture.admin(s, "DELETE", "/clients/" + other.clientId, null, ADMIN_TOKEN).statusCode());
        }

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(audit)));
        String text = Files.readString(audit);
        for (String secret : secrets) {
            assertNotNull(secret);
            assertFalse(text.contains(secret), "a secret is in the audit log: " + secret.substring(0, Math.min(8, secret.length())) + "...");
        }

        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(audit)) {
            JsonNode n = Json.MAPPER.readTree(l);
            for (String f : List.of("ts", "event", "outcome", "user", "client_id", "ip")) assertTrue(n.has(f), f + " in " + l);
            Instant.parse(n.get("ts").asText());
            assertTrue(List.of("success", "failure").contains(n.get("outcome").asText()), l);
            lines.add(n);
        }
        List<String> events = lines.stream().map(n -> n.get("event").asText() + ":" + n.get("outcome").asText()).toList();
        assertInOrder(events, "client_registered:success", "sign_in:failure", "sign_in:success", "consent_refused:failure",
                "sign_in:success", "consent_given:success", "tokens_issued:success", "tokens_issued:success", "tokens_issued:success",
                "reuse_detected:failure", "tokens_issued:success", "tokens_revoked:success", "api_key_created:success",
                "api_key_used:success", "api_key_revoked:success", "api_key_used:failure", "client_removed:success", "client_registered:success",
                "client_removed:success");

        JsonNode failed = first(lines, "sign_in", "failure");
        assertEquals("local:alice", failed.get("user").asText());
        assertEquals("wrong_password", failed.get("reason").asText());
        assertEquals("127.0.0.1", failed.get("ip").asText());
        JsonNode issued = first(lines, "tokens_issued", "success");
        assertEquals("authorization_code", issued.get("grant_type").asText());
        assertEquals("local:alice", issued.get("user").asText());
        assertTrue(issued.get("client_id").asText().startsWith("mcpc_"));
        JsonNode reuse = first(lines, "reuse_detected", "failure");
        assertEquals(issued.get("grant_id").asText(), reuse.get("grant_id").asText());
        assertEquals("client", first(lines, "tokens_revoked", "success").get("by").asText());
        List<String> removedBy = lines.stream().filter(n -> n.get("event").asText().equals("client_removed")).map(n -> n.get("by").asText()).toList();
        assertEquals(List.of("client", "admin"), removedBy);
    }

    @Test
    void anUnwritableAuditLogStopsTheStartAndSecretFieldsAreRefused() throws IOException {
        Path asDir = dir.resolve("a-directory");
        Files.createDirectories(asDir);
        ConfigException e = assertThrows(ConfigException.class, () -> Server.create(Settings.from(Map.of(
                "OAUTH_DATA_DIR", dir.resolve("data").toString(), "AUDIT_LOG", asDir.toString()))));
        assertTrue(e.getMessage().startsWith("AUDIT_LOG=" + asDir + ": cannot be opened for appending"), e.getMessage());

        AuditLog log = AuditLog.toFile(dir.resolve("x.log"), Clock.systemUTC());
        assertThrows(IllegalArgumentException.class, () -> log.write("e", "success", null, null, null, Map.of("refresh_token", "x")));
        log.write("e", "success", "u", null, null, Map.of("n", 1));
        assertEquals("{\"ts\":", Files.readString(dir.resolve("x.log")).substring(0, 6));
        assertTrue(Files.readString(dir.resolve("x.log")).contains("\"user\":\"u\",\"client_id\":null,\"ip\":null,\"n\":1}"));
        // moved away (rotation): the next line goes to a new file
        Files.move(dir.resolve("x.log"), dir.resolve("x.log.1"));
        log.write("f", "success", null, null, null, null);
        assertTrue(Files.readString(dir.resolve("x.log")).contains("\"event\":\"f\""));
    }

    private static void assertInOrder(List<String> actual, String... expected) {
        int i = 0;
        for (String a : actual) {
            if (i < expected.length && a.equals(expected[i])) i++;
        }
        assertEquals(expected.length, i, "expected, in this order: " + List.of(expected) + "\nwas: " + actual);
    }

    private static JsonNode first(List<JsonNode> lines, String event, String outcome) {
        return lines.stream().filter(n -> n.get("event").asText().equals(event) && n.get("outcome").asText().equals(outcome))
                .findFirst().orElseThrow(() -> new AssertionError("no " + event + " " + outcome));
    }

    private static String basic(String id, String secret) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((TestServer.enc(id) + ":" + TestServer.enc(secret))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
