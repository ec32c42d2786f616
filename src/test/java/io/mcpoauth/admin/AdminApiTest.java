package io.mcpoauth.admin;

import static io.mcpoauth.OpsFixture.ADMIN_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OpsFixture;
import io.mcpoauth.TestServer;
import io.mcpoauth.oauth.RefreshTokens;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /admin/api: who may call it on which port, and the operations as JSON. */
class AdminApiTest {
    private static final List<String[]> PATHS = List.of(
            new String[]{"GET", "/clients"}, new String[]{"GET", "/clients/x"}, new String[]{"DELETE", "/clients/x"},
            new String[]{"GET", "/tokens"}, new String[]{"POST", "/tokens/revoke"}, new String[]{"GET", "/apikeys"},
            new String[]{"POST", "/apikeys"}, new String[]{"DELETE", "/apikeys/x"}, new String[]{"GET", "/users"},
            new String[]{"POST", "/users"}, new String[]{"PUT", "/users/x/password"}, new String[]{"DELETE", "/users/x"},
            new String[]{"GET", "/store/check"}, new String[]{"POST", "/store/backup"}, new String[]{"GET", "/nonexistent"},
            new String[]{"GET", ""});

    @TempDir
    Path dir;

    @Test
    void withoutAdminTokenEveryPathIs404WhateverIsSent() {
        try (TestServer s = TestServer.start(dir.resolve("data"))) {
            for (String[] p : PATHS) {
                for (String token : new String[]{null, "anything", ADMIN_TOKEN}) {
                    HttpResponse<String> r = OpsFixture.admin(s, p[0], p[1], p[0].equals("GET") || p[0].equals("DELETE") ? null : "{}", token);
                    assertEquals(404, r.statusCode(), p[0] + " " + p[1] + " " + token + ": " + r.body());
                    assertFalse(r.headers().firstValue("WWW-Authenticate").isPresent());
                }
            }
        }
    }

    @Test
    void wrongOrMissingTokenIs401OnEveryPath() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN))) {
            // the right token first, so the tokens below travel on a keep-alive connection that has seen it (Jetty's
            // per-connection header cache must not match them ignoring case)
            assertEquals(200, OpsFixture.admin(s, "GET", "/users", null, ADMIN_TOKEN).statusCode());
            String[] wrong = {null, "", "x", ADMIN_TOKEN.substring(1), ADMIN_TOKEN + "x", ADMIN_TOKEN.toUpperCase(), "Basic " + ADMIN_TOKEN};
            for (String[] p : PATHS) {
                for (String token : wrong) {
                    HttpRequest.Builder b = s.request("/admin/api" + p[1]).method(p[0], HttpRequest.BodyPublishers.noBody());
                    if (token != null) b.header("Authorization", token.startsWith("Basic ") ? token : "Bearer " + token);
                    HttpResponse<String> r = s.send(b);
                    assertEquals(401, r.statusCode(), p[0] + " " + p[1] + " " + token + ": " + r.body());
                    assertEquals("Bearer realm=\"mcp-oauth-server admin\"", r.headers().firstValue("WWW-Authenticate").orElse(null));
                    assertEquals("unauthorized", TestServer.json(r).get("error").asText());
                }
            }
            // two Authorization headers are refused even when one is right
            HttpResponse<String> two = s.send(s.request("/admin/api/users").header("Authorization", "Bearer " + ADMIN_TOKEN)
                    .header("Authorization", "Bearer x").GET());
            assertEquals(401, two.statusCode());
            HttpResponse<String> ok = OpsFixture.admin(s, "GET", "/users", null, ADMIN_TOKEN);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("no-store", ok.headers().firstValue("Cache-Control").orElse(null));
            assertEquals(404, OpsFixture.admin(s, "GET", "/nonexistent", null, ADMIN_TOKEN).statusCode(), "unknown only after authentication");
        }
    }

    @Test
    void theLoopbackAdminPortTakesOnlyItsOwnCredential() throws Exception {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN))) {
            Path credFile = s.dataDir.resolve(AdminSocket.FILE);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(credFile)));
            AdminSocket.Credential c = AdminSocket.read(s.dataDir);
            assertEquals(ProcessHandle.current().pid(), c.pid());
            assertTrue(c.url().startsWith("http://127.0.0.1:"), c.url());
            assertFalse(c.url().endsWith(":" + s.server.port()), "its own port, not the public one");

            HttpResponse<String> viaSocket = s.send(HttpRequest.newBuilder(URI.create(c.url() + "/admin/api/users"))
                    .header("Authorization", "Bearer " + c.token()).GET());
            assertEquals(200, viaSocket.statusCode(), viaSocket.body());
            HttpResponse<String> adminTokenOnSocket = s.send(HttpRequest.newBuilder(URI.create(c.url() + "/admin/api/users"))
                    .header("Authorization", "Bearer " + ADMIN_TOKEN).GET());
            assertEquals(401, adminTokenOnSocket.statusCode());
            assertEquals(401, OpsFixture.admin(s, "GET", "/users", null, c.token()).statusCode(), "the socket token is no good on the public port");
            HttpResponse<String> other = s.send(HttpRequest.newBuilder(URI.create(c.url() + "/healthz")).GET());
            assertEquals(404, other.statusCode(), "the admin port serves /admin/api only");
            HttpResponse<String> mcp = s.send(HttpRequest.newBuilder(URI.create(c.url() + "/mcp")).POST(HttpRequest.BodyPublishers.ofString("{}")));
            assertEquals(404, mcp.statusCode());
        }
        assertFalse(Files.exists(dir.resolve("data").resolve(AdminSocket.FILE)), "withdrawn at stop");
    }

    @Test
    void operationsAsJson() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN))) {
            OpsFixture.Grant g = OpsFixture.signIn(s, "alice");
            String clientId = g.client().clientId;

            JsonNode clients = TestServer.json(OpsFixture.admin(s, "GET", "/clients", null, ADMIN_TOKEN));
            assertEquals(1, clients.get("clients").size());
            JsonNode c0 = clients.get("clients").get(0);
            assertEquals(clientId, c0.get("client_id").asText());
            assertEquals("Test Client", c0.get("client_name").asText());
            assertEquals(1, c0.get("grants").asInt());
            assertTrue(c0.has("last_used_at"));

            JsonNode detail = TestServer.json(OpsFixture.admin(s, "GET", "/clients/" + clientId, null, ADMIN_TOKEN));
            assertEquals("local:alice", detail.path("grants").get(0).get("user_id").asText());
            assertEquals("local:alice", detail.path("consented_users").get(0).asText());
            String family = detail.path("grants").get(0).get("family_id").asText();

            JsonNode grants = TestServer.json(OpsFixture.admin(s, "GET", "/tokens?user=alice", null, ADMIN_TOKEN));
            assertEquals(family, grants.get("grants").get(0).get("family_id").asText());
            assertEquals(0, TestServer.json(OpsFixture.admin(s, "GET", "/tokens?client_id=nobody", null, ADMIN_TOKEN)).get("grants").size());
            String all = OpsFixture.admin(s, "GET", "/tokens", null, ADMIN_TOKEN).body() + detail;
            assertFalse(all.contains(g.refreshToken()) || all.contains("token_hash") || all.contains("hash"), "no token or hash: " + all);

            assertEquals(400, OpsFixture.admin(s, "POST", "/tokens/revoke", "{\"user\":\"alice\",\"family_id\":\"" + family + "\"}",
                    ADMIN_TOKEN).statusCode(), "exactly one selector");
            assertEquals(404, OpsFixture.admin(s, "POST", "/tokens/revoke", "{\"family_id\":\"nope\"}", ADMIN_TOKEN).statusCode());
            assertEquals(400, OpsFixture.admin(s, "POST", "/tokens/revoke", "not json", ADMIN_TOKEN).statusCode());
            HttpResponse<String> revoked = OpsFixture.admin(s, "POST", "/tokens/revoke", "{\"family_id\":\"" + family + "\"}", ADMIN_TOKEN);
            assertEquals(200, revoked.statusCode(), revoked.body());
            assertEquals(1, TestServer.json(revoked).get("grants").asInt());
            assertEquals(401, OpsFixture.callTool(s, g.accessToken(), "whoami").statusCode(), "the access token died with its grant");
            assertEquals(400, g.client().refresh(g.refreshToken()).statusCode(), "and the refresh token");

            // users
            HttpResponse<String> added = OpsFixture.admin(s, "POST", "/users", "{\"username\":\"Bob\",\"password\":\"a long enough password\"}", ADMIN_TOKEN);
            assertEquals(201, added.statusCode(), added.body());
            assertEquals("bob", TestServer.json(added).get("username").asText());
            assertEquals(409, OpsFixture.admin(s, "POST", "/users", "{\"username\":\"bob\",\"password\":\"a long enough password\"}",
                    ADMIN_TOKEN).statusCode());
            assertEquals(400, OpsFixture.admin(s, "POST", "/users", "{\"username\":\"carol\",\"password\":\"short\"}", ADMIN_TOKEN).statusCode());
            assertEquals(200, OpsFixture.admin(s, "PUT", "/users/bob/password", "{\"password\":\"another long password\"}", ADMIN_TOKEN).statusCode());
            assertEquals(404, OpsFixture.admin(s, "PUT", "/users/nobody/password", "{\"password\":\"another long password\"}", ADMIN_TOKEN).statusCode());
            assertEquals(2, TestServer.json(OpsFixture.admin(s, "GET", "/users", null, ADMIN_TOKEN)).get("users").size());
            HttpResponse<String> removed = OpsFixture.admin(s, "DELETE", "/users/bob", null, ADMIN_TOKEN);
            assertEquals(200, removed.statusCode(), removed.body());
            assertEquals("local:bob", TestServer.json(removed).get("user_id").asText());
            assertEquals(404, OpsFixture.admin(s, "DELETE", "/users/bob", null, ADMIN_TOKEN).statusCode());

            // store
            JsonNode check = TestServer.json(OpsFixture.admin(s, "GET", "/store/check", null, ADMIN_TOKEN));
            assertTrue(check.get("writes_healthy").asBoolean());
            assertTrue(check.get("files").size() >= 3);
            assertEquals(400, OpsFixture.admin(s, "POST", "/store/backup", "{\"dir\":\"relative/dir\"}", ADMIN_TOKEN).statusCode());
            assertEquals(409, OpsFixture.admin(s, "POST", "/store/recover", "{}", ADMIN_TOKEN).statusCode());
            HttpResponse<String> backup = OpsFixture.admin(s, "POST", "/store/backup", "{\"dir\":\"" + dir.resolve("bk") + "\"}", ADMIN_TOKEN);
            assertEquals(200, backup.statusCode(), backup.body());
            assertTrue(Files.exists(dir.resolve("bk").resolve("clients.json")));
            assertEquals(400, OpsFixture.admin(s, "POST", "/store/backup", "{\"dir\":\"" + dir.resolve("bk") + "\"}", ADMIN_TOKEN).statusCode(),
                    "not empty any more");

            // removing the client
            HttpResponse<String> gone = OpsFixture.admin(s, "DELETE", "/clients/" + clientId, null, ADMIN_TOKEN);
            assertEquals(200, gone.statusCode(), gone.body());
            assertTrue(TestServer.json(gone).get("registered").asBoolean());
            assertEquals(404, OpsFixture.admin(s, "GET", "/clients/" + clientId, null, ADMIN_TOKEN).statusCode());
            assertEquals(0, TestServer.json(OpsFixture.admin(s, "GET", "/clients", null, ADMIN_TOKEN)).get("clients").size());
        }
    }

    @Test
    void removingAClientEndsItsTokensAtOnceEvenWhenItIsKnownOnlyByAUrl() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("ADMIN_TOKEN", ADMIN_TOKEN))) {
            OpsFixture.Grant g = OpsFixture.signIn(s, "alice");
            assertEquals(200, OpsFixture.callTool(s, g.accessToken(), "whoami").statusCode());
            assertEquals(200, OpsFixture.admin(s, "DELETE", "/clients/" + g.client().clientId, null, ADMIN_TOKEN).statusCode());
            assertEquals(401, OpsFixture.callTool(s, g.accessToken(), "whoami").statusCode());
            assertEquals(401, g.client().refresh(g.refreshToken()).statusCode(), "the client itself is gone: invalid_client");

            // a client id metadata document client: its id is a URL, known here only by its grant
            String cimd = "https://app.example.com/oauth/client.json";
            RefreshTokens.Issued issued = s.server.refreshTokens.create(cimd, "local:alice", "mcp", s.url + "/mcp", true, Instant.now());
            JsonNode listed = TestServer.json(OpsFixture.admin(s, "GET", "/clients", null, ADMIN_TOKEN));
            assertEquals(cimd, listed.get("clients").get(0).get("client_id").asText());
            assertFalse(listed.get("clients").get(0).get("registered").asBoolean());
            String enc = java.net.URLEncoder.encode(cimd, java.nio.charset.StandardCharsets.UTF_8);
            JsonNode shown = TestServer.json(OpsFixture.admin(s, "GET", "/clients/" + enc, null, ADMIN_TOKEN));
            assertEquals(issued.family().familyId(), shown.path("grants").get(0).get("family_id").asText());
            HttpResponse<String> removed = OpsFixture.admin(s, "DELETE", "/clients/" + enc, null, ADMIN_TOKEN);
            assertEquals(200, removed.statusCode(), removed.body());
            assertEquals(1, TestServer.json(removed).get("grants_revoked").asInt());
            assertNotNull(issued.refreshToken());
            assertEquals(null, s.server.refreshTokens.get(issued.family().familyId()));
        }
    }
}
