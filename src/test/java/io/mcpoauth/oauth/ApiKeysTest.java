package io.mcpoauth.oauth;

import static io.mcpoauth.OpsFixture.ADMIN_TOKEN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.OpsFixture;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.admin.Admin;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.file.FileStores;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** API keys on /mcp: the key's user and scopes, stored hashed, revocable at once, last use written at most once a minute. */
class ApiKeysTest {
    @TempDir
    Path dir;

    @Test
    void aKeyActsAsItsUserWithItsScopes() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN, "OAUTH_SCOPES", "mcp extra"))) {
            OAuthClientSim.addUser(s, "alice", OpsFixture.PASSWORD);
            HttpResponse<String> created = OpsFixture.admin(s, "POST", "/apikeys", "{\"user\":\"alice\",\"name\":\"CI runner\"}", ADMIN_TOKEN);
            assertEquals(201, created.statusCode(), created.body());
            JsonNode body = TestServer.json(created);
            String key = body.get("key").asText();
            String id = body.path("api_key").get("id").asText();
            assertTrue(key.startsWith("mcpk_" + id + "."), key);
            assertEquals("mcpk_" + id, body.path("api_key").get("prefix").asText());
            assertEquals(List.of("mcp"), List.of(body.path("api_key").path("scopes").get(0).asText()), "default scopes");

            JsonNode who = OpsFixture.whoami(s, key);
            assertEquals("local:alice", who.get("subject").asText());
            assertEquals("alice", who.get("username").asText());
            assertEquals("apikey:" + id, who.get("client_id").asText());
            assertEquals("[\"mcp\"]", who.get("scopes").toString());

            // exact match only, also on a keep-alive connection that has just carried the key
            String otherCase = key.substring(0, key.indexOf('.') + 1) + swapCase(key.substring(key.indexOf('.') + 1));
            assertEquals(401, OpsFixture.callTool(s, otherCase, "whoami").statusCode());

            // stored hashed: the key itself is nowhere in the data directory
            assertFalse(allFiles(s.dataDir).contains(key));
            assertFalse(allFiles(s.dataDir).contains(key.substring(key.indexOf('.') + 1)));

            // a key with other scopes: the tool needs "mcp", the key has only "extra"
            Admin.ApiKeyCreated narrow = s.server.admin.admin().createApiKey("alice", "narrow", List.of("extra"));
            HttpResponse<String> r = OpsFixture.callTool(s, narrow.key(), "whoami");
            assertEquals(403, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").contains("insufficient_scope"));

            HttpResponse<String> unknownScope = OpsFixture.admin(s, "POST", "/apikeys",
                    "{\"user\":\"alice\",\"name\":\"x\",\"scopes\":[\"admin\"]}", ADMIN_TOKEN);
            assertEquals(400, unknownScope.statusCode(), unknownScope.body());
            assertTrue(unknownScope.body().contains("Unknown scope 'admin'"), unknownScope.body());
            HttpResponse<String> noUser = OpsFixture.admin(s, "POST", "/apikeys", "{\"user\":\"mallory\",\"name\":\"x\"}", ADMIN_TOKEN);
            assertEquals(404, noUser.statusCode(), noUser.body());
        }
    }

    @Test
    void revokedKeyIsRefusedAtOnce() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN))) {
            OAuthClientSim.addUser(s, "alice", OpsFixture.PASSWORD);
            Admin.ApiKeyCreated k = s.server.admin.admin().createApiKey("alice", "laptop", List.of());
            assertEquals(200, OpsFixture.callTool(s, k.key(), "whoami").statusCode());

            HttpResponse<String> del = OpsFixture.admin(s, "DELETE", "/apikeys/" + k.apiKey().id(), null, ADMIN_TOKEN);
            assertEquals(200, del.statusCode(), del.body());
            HttpResponse<String> r = OpsFixture.callTool(s, k.key(), "whoami");
            assertEquals(401, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").contains("invalid_token"));
            assertEquals(404, OpsFixture.admin(s, "DELETE", "/apikeys/" + k.apiKey().id(), null, ADMIN_TOKEN).statusCode(), "already gone");

            // a wrong secret with a real id, an unknown id, and a key whose user was removed: all 401
            Admin.ApiKeyCreated k2 = s.server.admin.admin().createApiKey("alice", "second", List.of());
            String wrongSecret = k2.key().substring(0, k2.key().indexOf('.') + 1) + "A".repeat(43);
            assertEquals(401, OpsFixture.callTool(s, wrongSecret, "whoami").statusCode());
            assertEquals(401, OpsFixture.callTool(s, "mcpk_unknownid.abc", "whoami").statusCode());
            assertEquals(200, OpsFixture.callTool(s, k2.key(), "whoami").statusCode());
            s.server.admin.admin().removeUser("alice");
            assertEquals(401, OpsFixture.callTool(s, k2.key(), "whoami").statusCode(), "removing the user revokes the key");
            assertEquals(0, s.server.apiKeys.size());
            assertTrue(s.server.ops.metrics().apiKeyAuth.get("rejected") >= 4);
        }
    }

    @Test
    void lastUseIsWrittenAtMostOnceAMinutePerKey() throws IOException {
        TestClock clock = new TestClock(Instant.parse("2026-03-01T10:00:00Z"));
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of(), clock)) {
            OAuthClientSim.addUser(s, "alice", OpsFixture.PASSWORD);
            Admin.ApiKeyCreated a = s.server.admin.admin().createApiKey("alice", "a", List.of());
            Admin.ApiKeyCreated b = s.server.admin.admin().createApiKey("alice", "b", List.of());
            Path file = s.dataDir.resolve(io.mcpoauth.store.file.FileStores.API_KEYS);
            assertNull(lastUsed(file, a.apiKey().id()));

            assertEquals(200, OpsFixture.callTool(s, a.key(), "whoami").statusCode());
            Instant first = clock.instant();
            assertEquals(first, lastUsed(file, a.apiKey().id()));
            byte[] afterFirst = Files.readAllBytes(file);

            clock.advance(Duration.ofSeconds(30));
            for (int i = 0; i < 3; i++) assertEquals(200, OpsFixture.callTool(s, a.key(), "whoami").statusCode());
            assertArrayEquals(afterFirst, Files.readAllBytes(file), "within the minute nothing is written");

            assertEquals(200, OpsFixture.callTool(s, b.key(), "whoami").statusCode());
            assertEquals(clock.instant(), lastUsed(file, b.apiKey().id()), "per key: the other key is written");
            assertEquals(first, lastUsed(file, a.apiKey().id()));

            clock.advance(Duration.ofSeconds(30));
            assertEquals(200, OpsFixture.callTool(s, a.key(), "whoami").statusCode());
            assertEquals(clock.instant(), lastUsed(file, a.apiKey().id()), "a minute later it is written again");
            assertEquals(first.plusSeconds(60), lastUsed(file, a.apiKey().id()));
        }
    }

    static Instant lastUsed(Path file, String id) throws IOException {
        JsonNode rec = Json.MAPPER.readTree(Files.readAllBytes(file)).path("records").path(id);
        assertFalse(rec.isMissingNode(), "record " + id);
        return rec.has("last_used_at") ? Instant.parse(rec.get("last_used_at").asText()) : null;
    }

    static String swapCase(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
        return b.toString();
    }

    static String allFiles(Path dir) {
        StringBuilder b = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                if (Files.isRegularFile(p)) b.append(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toString();
    }
}
