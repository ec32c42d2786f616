package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's bounds against real npm servers: process cap, concurrency caps, a dead child. */
class GatewayLimitsTest {
    @TempDir
    static Path dir;
    static Process everything;

    @BeforeAll
    static void start() throws Exception {
        int port = TestServer.freePort();
        everything = NpmServers.everythingHttp(port);
        int ours = TestServer.freePort();
        String node = Json.MAPPER.writeValueAsString(NpmServers.node());
        String js = Json.MAPPER.writeValueAsString(NpmServers.everything().toString());
        Path file = dir.resolve("servers.json");
        Files.writeString(file, """
                {"servers": {
                  "one": {"command": %s, "args": [%s, "stdio"], "per_user": true, "max_processes": 1, "idle_timeout_seconds": 60},
                  "shared": {"command": %s, "args": [%s, "stdio"]},
                  "capped": {"url": "http://127.0.0.1:%d/mcp", "max_concurrent": 4, "max_concurrent_per_user": 1},
                  "scoped": {"url": "http://127.0.0.1:%d/mcp", "scope": "files:read"},
                  "garbage": {"url": "http://127.0.0.1:%d/healthz", "timeout_seconds": 5},
                  "builtin": {"enabled": false}
                }}
                """.formatted(node, js, node, js, port, port, ours));
        GatewayTest.server = TestServer.start(Files.createDirectories(dir.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString(),
                "OAUTH_SCOPES", "mcp files:read", "PORT", String.valueOf(ours)));
        io.mcpoauth.OAuthClientSim.addUser(GatewayTest.server, "alice", "alice-password-1");
        io.mcpoauth.OAuthClientSim.addUser(GatewayTest.server, "bob", "bob-password-12");
    }

    @AfterAll
    static void stop() throws Exception {
        if (GatewayTest.server != null) GatewayTest.server.close();
        GatewayTest.server = null;
        NpmServers.stop(everything);
    }

    static GatewayTest.Res call(String server, String user, String tool, String args) throws Exception {
        return GatewayTest.call("/mcp/" + server, GatewayTest.token(user, "/mcp/" + server), tool, args);
    }

    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void aFullProcessCapRefusesANewUserAndNeverStopsABusyProcess() throws Exception {
        CompletableFuture<GatewayTest.Res> aliceLong = CompletableFuture.supplyAsync(() -> {
            try {
                return call("one", "alice", "trigger-long-running-operation", "{\"duration\":3,\"steps\":3}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        waitFor(() -> GatewayTest.server.server.gateway.processesByServer().get("one") == 1, "alice's process");
        Thread.sleep(500); // alice's call is now running in her process (it lasts 3 s)
        GatewayTest.Res bob = call("one", "bob", "echo", "{\"message\":\"b\"}");
        assertTrue(bob.json().path("result").path("isError").asBoolean(), bob.body());
        assertTrue(GatewayTest.text(bob).contains("already runs its most processes (1)"), bob.body());
        GatewayTest.Res alice = aliceLong.get();
        assertFalse(alice.json().path("result").path("isError").asBoolean(), "the busy process was not stopped: " + alice.body());
        GatewayTest.Res bobLater = call("one", "bob", "echo", "{\"message\":\"b\"}");
        assertEquals("Echo: b", GatewayTest.text(bobLater), "an idle process makes room: " + bobLater.body());
        assertEquals(1, GatewayTest.server.server.gateway.processesByServer().get("one"));
    }

    @Test
    void aCallBeyondTheUsersConcurrencyCapIsRefusedAtOnce() throws Exception {
        CompletableFuture<GatewayTest.Res> first = CompletableFuture.supplyAsync(() -> {
            try {
                return call("capped", "alice", "trigger-long-running-operation", "{\"duration\":2,\"steps\":2}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(700); // the first call is under way upstream
        long t0 = System.nanoTime();
        GatewayTest.Res second = call("capped", "alice", "echo", "{\"message\":\"x\"}");
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(1).toNanos(), "refused at once, not queued");
        assertTrue(GatewayTest.text(second).contains("in progress, the most allowed"), second.body());
        assertEquals("Echo: y", GatewayTest.text(call("capped", "bob", "echo", "{\"message\":\"y\"}")), "another user is not held back");
        assertFalse(first.get().json().path("result").path("isError").asBoolean(), first.get().body());
    }

    @Test
    void aModernClientThatClosesItsAnswerCancelsTheUpstreamCall() throws Exception {
        String path = "/mcp/capped";
        String token = GatewayTest.token("alice", path);
        String body = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"trigger-long-running-operation\","
                + "\"arguments\":{\"duration\":30,\"steps\":3},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                + "\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
        java.net.URI url = java.net.URI.create(GatewayTest.server.url);
        long t0 = System.nanoTime();
        String head;
        try (java.net.Socket s = new java.net.Socket(url.getHost(), url.getPort())) {
            s.setSoTimeout(10_000);
            byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: " + url.getAuthority() + "\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28"
                    + "\r\nMcp-Method: tools/call\r\nMcp-Name: trigger-long-running-operation\r\nContent-Length: " + b.length + "\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().write(b);
            s.getOutputStream().flush();
            StringBuilder seen = new StringBuilder();
            java.io.InputStream in = s.getInputStream();
            for (int c; !seen.toString().contains("\r\n\r\n") || !seen.toString().contains("\n:\n"); ) { // the headers, then a heartbeat
                if ((c = in.read()) < 0) break;
                seen.append((char) c);
            }
            head = seen.toString();
        } // the client leaves: the socket is closed
        assertTrue(head.startsWith("HTTP/1.1 200") && head.toLowerCase(java.util.Locale.ROOT).contains("content-type: text/event-stream"), head);
        // alice may have one call in flight on this server: her next call gets through once the abandoned one was cancelled upstream
        waitFor(() -> {
            try {
                return "Echo: free".equals(GatewayTest.text(call("capped", "alice", "echo", "{\"message\":\"free\"}")));
            } catch (Exception e) {
                return false;
            }
        }, "the abandoned call to end");
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos(), "ended long before the operation's 30 s");
    }

    @Test
    void aSharedProcessThatDiesIsStartedAgain() throws Exception {
        assertEquals("Echo: 1", GatewayTest.text(call("shared", "alice", "echo", "{\"message\":\"1\"}")));
        List<ProcessHandle> children = ProcessHandle.current().children()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains("stdio")).orElse(false)).toList();
        assertFalse(children.isEmpty(), "the stdio child runs");
        children.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : children) p.onExit().get();
        GatewayTest.Res again = call("shared", "bob", "echo", "{\"message\":\"2\"}");
        assertEquals("Echo: 2", GatewayTest.text(again), again.body());
    }

    static String tokenWith(String user, String path, java.util.Set<String> scopes) {
        java.time.Instant now = java.time.Instant.now();
        String resource = GatewayTest.server.url + path;
        var issued = GatewayTest.server.server.refreshTokens.create("test-client", "local:" + user, String.join(" ", scopes), resource, false, now);
        return GatewayTest.server.server.accessTokens.issue(new io.mcpoauth.store.AccessToken("test-client", "local:" + user, scopes, resource,
                issued.family().familyId(), now.plusSeconds(600)), now);
    }

    @Test
    void aServersScopeIsNeededOnItsEndpointAndForItsToolsOnTheAggregate() throws Exception {
        GatewayTest.Res without = GatewayTest.legacy("/mcp/scoped", tokenWith("alice", "/mcp/scoped", java.util.Set.of("mcp")), "tools/list", "{}");
        assertEquals(403, without.status(), without.body());
        assertEquals("insufficient_scope", without.json().path("error").asText(), without.body());
        GatewayTest.Res with = GatewayTest.call("/mcp/scoped", tokenWith("alice", "/mcp/scoped", java.util.Set.of("mcp", "files:read")), "echo",
                "{\"message\":\"s\"}");
        assertEquals("Echo: s", GatewayTest.text(with), with.body());
        String aggregate = tokenWith("alice", "/mcp", java.util.Set.of("mcp"));
        assertFalse(GatewayTest.toolNames(GatewayTest.legacy("/mcp", aggregate, "tools/list", "{}")).contains("scoped_echo"));
        GatewayTest.Res refused = GatewayTest.call("/mcp", aggregate, "scoped_echo", "{\"message\":\"s\"}");
        assertEquals(403, refused.status(), refused.body());
        assertEquals("insufficient_scope", refused.json().path("error").asText(), refused.body());
    }

    @Test
    void anUpstreamThatIsNotAnMcpServerGivesAClearToolError() throws Exception {
        GatewayTest.Res r = call("garbage", "alice", "echo", "{}");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().path("result").path("isError").asBoolean(), r.body());
        assertTrue(GatewayTest.text(r).startsWith("The server garbage is unavailable: the upstream server garbage answered HTTP "), r.body());
        GatewayTest.Res list = GatewayTest.legacy("/mcp/garbage", GatewayTest.token("alice", "/mcp/garbage"), "tools/list", "{}");
        assertEquals(-32603, list.json().path("error").path("code").asInt(), list.body());
    }

    @Test
    void builtInToolsCanBeTurnedOff() throws Exception {
        GatewayTest.Res list = GatewayTest.legacy("/mcp", GatewayTest.token("alice", "/mcp"), "tools/list", "{}");
        List<String> names = GatewayTest.toolNames(list);
        assertFalse(names.contains("whoami"), names.toString());
        assertTrue(names.contains("shared_echo"), names.toString());
    }

    @Test
    void anIdentityJwtEntryStartsAndItsAssertionsVerifyWithThePublishedKeys(@TempDir Path other) throws Exception {
        Path file = other.resolve("servers.json");
        Files.writeString(file, "{\"servers\": {\"id\": {\"url\": \"http://127.0.0.1:1/mcp\", \"identity\": \"jwt\"}}}");
        try (TestServer s = TestServer.start(Files.createDirectories(other.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString()))) {
            java.net.http.HttpResponse<String> jwks = s.get(io.mcpoauth.oauth.IdentityJwt.JWKS_PATH);
            assertEquals(200, jwks.statusCode());
            String assertion = s.server.identityJwt.assertion(new io.mcpoauth.core.AuthContext("local:alice", "alice", "local", "c", java.util.Set.of("mcp"), "g"),
                    "http://127.0.0.1:1/mcp");
            assertTrue(io.mcpoauth.oauth.IdentityJwtTest.verifies(assertion, jwks.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
    }
}
