package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security of {@code /mcp} against a real server: bearer tokens, scopes, sessions, Host and Origin, challenges. */
class McpSecurityTest {
    static final String INIT = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
            + "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";

    @TempDir
    Path dir;
    McpTestServer s;

    @BeforeEach
    void start() {
        s = new McpTestServer(dir.resolve("data"), Map.of("ALLOWED_HOSTS", "mcp.internal, proxy.internal:9000"), settings -> TestTools.all());
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private String plainChallenge() {
        return "Bearer resource_metadata=\"" + s.resourceMetadata() + "\", scope=\"mcp\"";
    }

    private String invalidTokenChallenge() {
        return "Bearer error=\"invalid_token\", resource_metadata=\"" + s.resourceMetadata() + "\", scope=\"mcp\"";
    }

    private static void assertErrorBody(McpTestServer.Res r, String error) {
        JsonNode b = r.json();
        assertEquals(error, b.path("error").asText(), r.toString());
        assertTrue(b.path("error_description").isTextual(), r.toString());
        assertEquals(2, b.size(), "only error and error_description: " + r);
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.toString());
        NoStackTraces.assertClean(r);
    }

    private HttpRequest.Builder get(String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).timeout(Duration.ofSeconds(20)).GET()
                .header("Accept", "text/event-stream");
        if (authorization != null) b.header("Authorization", authorization);
        return b;
    }

    @Test
    void noAuthorizationHeader_postAndGet_401WithResourceMetadata() {
        McpTestServer.Res post = s.send(s.post(null, INIT));
        assertEquals(401, post.status(), post.toString());
        assertEquals(plainChallenge(), post.header("WWW-Authenticate"));
        assertErrorBody(post, "unauthorized");

        McpTestServer.Res get = s.send(get(null));
        assertEquals(401, get.status(), get.toString());
        assertEquals(plainChallenge(), get.header("WWW-Authenticate"));
        assertErrorBody(get, "unauthorized");
    }

    @Test
    void getAndDeleteAnswer405OnceAuthenticated() {
        McpTestServer.Res get = s.send(get("Bearer alice-token"));
        assertEquals(405, get.status(), "no stream without a session: " + get);
        assertEquals("GET, POST, DELETE", get.header("Allow"));
        assertErrorBody(get, "method_not_allowed");

        McpTestServer.Res delete = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).DELETE()
                .header("Authorization", "Bearer alice-token"));
        assertEquals(405, delete.status(), delete.toString());
        assertNull(delete.header("WWW-Authenticate"));
        McpTestServer.Res unknown = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).DELETE()
                .header("Authorization", "Bearer alice-token").header("Mcp-Session-Id", "abc"));
        assertEquals(404, unknown.status(), "not a session: " + unknown);
        String session = s.initialize("alice-token", "2025-11-25").header("Mcp-Session-Id");
        McpTestServer.Res end = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).DELETE()
                .header("Authorization", "Bearer alice-token").header("Mcp-Session-Id", session));
        assertEquals(405, end.status(), "a session lives in its id: nothing to delete: " + end);
        assertErrorBody(end, "method_not_allowed");
    }

    // ---- rows 63 and 66 ----

    @Test
    void unknownExpiredRevokedOrOtherResourceToken_401InvalidToken() {
        // The authenticator returns null for every one of these (unknown, expired, revoked, pre-restart, other resource).
        for (String token : List.of("garbage", "mcpat_expired0000", "issued-for-another-resource", "a.b.c")) {
            McpTestServer.Res r = s.send(s.post(token, INIT));
            assertEquals(401, r.status(), token + " " + r);
            assertEquals(invalidTokenChallenge(), r.header("WWW-Authenticate"));
            assertErrorBody(r, "invalid_token");
        }
    }

    @Test
    void accessTokenInTheQueryIsNeverAccepted() {
        McpTestServer.Res onlyQuery = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp?access_token=alice-token"))
                .header("Content-Type", "application/json").header("Accept", McpTestServer.ACCEPT)
                .POST(HttpRequest.BodyPublishers.ofString(INIT)));
        assertEquals(401, onlyQuery.status(), onlyQuery.toString());
        assertEquals(plainChallenge(), onlyQuery.header("WWW-Authenticate"));
        assertErrorBody(onlyQuery, "unauthorized");

        McpTestServer.Res both = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp?ACCESS_TOKEN=alice-token"))
                .header("Content-Type", "application/json").header("Accept", McpTestServer.ACCEPT)
                .header("Authorization", "Bearer alice-token")
                .POST(HttpRequest.BodyPublishers.ofString(INIT)));
        assertEquals(400, both.status(), both.toString());
        assertErrorBody(both, "invalid_request");

        McpTestServer.Res getQuery = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp?access_token=alice-token")).GET());
        assertEquals(401, getQuery.status(), getQuery.toString());
    }

    @Test
    void malformedAuthorizationHeaders_401or400_never500() {
        McpTestServer.Res basic = s.send(s.post(null, INIT).header("Authorization", "Basic YWxpY2U6c2VjcmV0"));
        assertEquals(401, basic.status(), basic.toString());
        assertEquals(plainChallenge(), basic.header("WWW-Authenticate"));
        assertErrorBody(basic, "unauthorized");

        for (String h : List.of("Bearer", "Bearer ", "bearer    ", "Bearer alice token", "Bearer \"alice-token\"", "Bearer ä")) {
            McpTestServer.Res r = s.raw("POST", "/mcp", List.of("Host: localhost:" + s.port, "Content-Type: application/json",
                    "Accept: " + McpTestServer.ACCEPT, "Authorization: " + h), INIT);
            assertTrue(r.status() == 401 || r.status() == 400, "'" + h + "' " + r);
            NoStackTraces.assertClean(r);
        }
        McpTestServer.Res empty = s.send(s.post(null, INIT).header("Authorization", "Bearer"));
        assertEquals(401, empty.status());
        assertEquals(invalidTokenChallenge(), empty.header("WWW-Authenticate"));

        McpTestServer.Res twoHeaders = s.send(s.post("alice-token", INIT).header("Authorization", "Bearer bob-token"));
        assertEquals(400, twoHeaders.status(), twoHeaders.toString());
        assertErrorBody(twoHeaders, "invalid_request");

        // Longer than any real token, still under Jetty's 8 KiB header limit: refused by the filter.
        McpTestServer.Res longToken = s.send(s.post("a".repeat(6 * 1024), INIT));
        assertEquals(401, longToken.status(), longToken.toString());
        assertErrorBody(longToken, "invalid_token");

        // 16 KiB: over Jetty's request-header limit, refused before any servlet runs (431): a 4xx, never a 5xx.
        McpTestServer.Res huge = s.raw("POST", "/mcp", List.of("Host: localhost:" + s.port, "Content-Type: application/json",
                "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer " + "a".repeat(16 * 1024)), INIT);
        assertTrue(huge.status() >= 400 && huge.status() < 500, huge.toString());
        NoStackTraces.assertClean(huge);
    }

    @Test
    void a16KiBTokenIsA401OnceJettyAcceptsHeadersThatLarge() {
        try (McpTestServer big = new McpTestServer(dir.resolve("big"), Map.of(), settings -> List.of(),
                config -> config.jetty.modifyHttpConfiguration(hc -> hc.setRequestHeaderSize(32 * 1024)))) {
            McpTestServer.Res r = big.send(big.post("a".repeat(16 * 1024), INIT));
            assertEquals(401, r.status(), r.toString());
            assertErrorBody(r, "invalid_token");
        }
    }

    @Test
    void bearerSchemeIsCaseInsensitive() {
        for (String scheme : List.of("bearer", "BEARER", "BeArEr")) {
            McpTestServer.Res r = s.send(s.post(null, INIT).header("Authorization", scheme + " alice-token"));
            assertEquals(200, r.status(), scheme + " " + r);
        }
    }

    @Test
    void toolNeedingAScopeTheTokenLacks_403InsufficientScope() {
        McpTestServer.Res r = s.callTool("noscope-token", "whoami", null);
        assertEquals(403, r.status(), r.toString());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"mcp\", resource_metadata=\"" + s.resourceMetadata() + "\"",
                r.header("WWW-Authenticate"));
        assertErrorBody(r, "insufficient_scope");

        // Every scope the operation needs, in one challenge (SEP-2350), even those the token already has.
        McpTestServer.Res admin = s.callTool("alice-token", "admin_echo", null);
        assertEquals(403, admin.status(), admin.toString());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"admin notes:write\", resource_metadata=\"" + s.resourceMetadata() + "\"",
                admin.header("WWW-Authenticate"));

        McpTestServer.Res ok = s.callTool("admin-token", "admin_echo", null);
        assertEquals(200, ok.status(), ok.toString());
        assertEquals("admin ok for local:dave", ok.json().path("result").path("content").path(0).path("text").asText());

        // Listing and other methods are not tool calls: the under-scoped token may still list (and learn what to ask for).
        assertEquals(200, s.rpc("noscope-token", "tools/list", "{}", "2025-11-25").status());
        // A tool with no required scope is callable by any authenticated caller.
        assertEquals(200, s.callTool("noscope-token", "thread_probe", null).status());
        // The two calls refused by the filter never reached the tool: only the admin's call was counted.
        assertEquals(1L, s.endpoint.toolCallsByTool().get("admin_echo"));
    }

    @Test
    void duplicateKeysCannotSmuggleAnotherToolName() {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"thread_probe\",\"name\":\"admin_echo\",\"arguments\":{}}}";
        McpTestServer.Res r = s.send(s.post("alice-token", body));
        assertTrue(r.status() == 400 || r.status() == 403, r.toString());
        assertFalse(r.body().contains("admin ok"), r.toString());
        NoStackTraces.assertClean(r);
    }

    @Test
    void anotherUsersSessionIdGivesNothingOfTheirs() {
        assertEquals(200, s.callTool("alice-token", "notes_add", "{\"text\":\"alice private\"}").status());
        McpTestServer.Res init = s.initialize("alice-token", "2025-11-25");
        String alices = init.header("Mcp-Session-Id");
        assertTrue(alices.startsWith("mcs1."), init.toString());

        for (String session : List.of(alices, "session-of-alice")) {
            McpTestServer.Res bob = s.send(s.post("bob-token",
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_list\",\"arguments\":{}}}")
                    .header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25"));
            assertEquals(404, bob.status(), "not a session of bob's: " + bob);
            assertFalse(bob.body().contains("alice private"));
            assertNull(bob.header("Mcp-Session-Id"));
            NoStackTraces.assertClean(bob);
        }
        JsonNode who = McpTestServer.toolJson(s.send(s.post("bob-token",
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}")));
        assertEquals("google:1234", who.path("subject").asText());
        McpTestServer.Res alice = s.send(s.post("alice-token",
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_list\",\"arguments\":{}}}")
                .header("Mcp-Session-Id", alices).header("MCP-Protocol-Version", "2025-11-25"));
        assertTrue(alice.body().contains("alice private"), alice.toString());
    }

    @Test
    void hostNotAllowed_403_beforeAuthentication() {
        for (String token : new String[]{null, "alice-token"}) {
            List<String> headers = new ArrayList<>(List.of("Host: evil.example.com", "Content-Type: application/json",
                    "Accept: " + McpTestServer.ACCEPT));
            if (token != null) headers.add("Authorization: Bearer " + token);
            McpTestServer.Res r = s.raw("POST", "/mcp", headers, INIT);
            assertEquals(403, r.status(), r.toString());
            assertNull(r.header("WWW-Authenticate"), "nothing about our OAuth setup is revealed: " + r);
            assertErrorBody(r, "forbidden");
        }
        for (String badHost : List.of("evil.example.com:" + "PORT", "localhost:1", "localhost", "mcp.internal.evil.com", "proxy.internal:9001", "a b", "[::1")) {
            String h = badHost.replace("PORT", String.valueOf(s.port));
            McpTestServer.Res r = s.raw("POST", "/mcp", List.of("Host: " + h, "Content-Type: application/json",
                    "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer alice-token"), INIT);
            assertTrue(r.status() == 403 || r.status() == 400, h + " " + r);
        }
    }

    @Test
    void allowedHosts_publicUrlLoopbackNamesAndConfiguredEntries() {
        for (String goodHost : List.of("localhost:" + s.port, "LOCALHOST:" + s.port, "127.0.0.1:" + s.port, "[::1]:" + s.port,
                "mcp.internal", "mcp.internal:8443", "proxy.internal:9000")) {
            McpTestServer.Res r = s.raw("POST", "/mcp", List.of("Host: " + goodHost, "Content-Type: application/json",
                    "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer alice-token"), INIT);
            assertEquals(200, r.status(), goodHost + " " + r);
        }
        // The conformance scenario's valid-host check sends no token: a 401 (not 403) there means "Host accepted".
        McpTestServer.Res noToken = s.raw("POST", "/mcp", List.of("Host: localhost:" + s.port, "Content-Type: application/json",
                "Accept: " + McpTestServer.ACCEPT), INIT);
        assertEquals(401, noToken.status(), noToken.toString());
    }

    @Test
    void originNotAllowed_403_missingOriginAllowed() {
        for (String bad : List.of("http://evil.example.com", "https://localhost:" + s.port + ".evil.com", "null",
                "http://localhost:" + (s.port + 1), "file://", "http://localhost:" + s.port + "/path", "not a url")) {
            McpTestServer.Res r = s.send(s.post("alice-token", INIT).header("Origin", bad));
            assertEquals(403, r.status(), bad + " " + r);
            assertErrorBody(r, "forbidden");
        }
        for (String good : List.of("http://localhost:" + s.port, "http://127.0.0.1:" + s.port, "https://mcp.internal", "http://proxy.internal:9000")) {
            McpTestServer.Res r = s.send(s.post("alice-token", INIT).header("Origin", good));
            assertEquals(200, r.status(), good + " " + r);
        }
        assertEquals(200, s.send(s.post("alice-token", INIT)).status(), "no Origin: allowed");
        // Origin is checked before the token, like Host.
        McpTestServer.Res evilNoToken = s.send(s.post(null, INIT).header("Origin", "http://evil.example.com"));
        assertEquals(403, evilNoToken.status());
    }

    @Test
    void challengeUrlsComeOnlyFromConfiguration() {
        McpTestServer.Res r = s.raw("POST", "/mcp", List.of("Host: 127.0.0.1:" + s.port, "X-Forwarded-Host: evil.example.com",
                "X-Forwarded-Proto: https", "Forwarded: host=evil.example.com;proto=https", "Content-Type: application/json",
                "Accept: " + McpTestServer.ACCEPT), INIT);
        assertEquals(401, r.status(), r.toString());
        assertEquals(plainChallenge(), r.header("WWW-Authenticate"));
        assertFalse(r.toString().contains("evil"), r.toString());

        McpTestServer.Res scope = s.raw("POST", "/mcp", List.of("Host: mcp.internal", "X-Forwarded-Host: evil.example.com",
                "Content-Type: application/json", "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer noscope-token"),
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\"}}");
        assertEquals(403, scope.status(), scope.toString());
        assertTrue(scope.header("WWW-Authenticate").contains("resource_metadata=\"" + s.resourceMetadata() + "\""), scope.toString());
    }
}
