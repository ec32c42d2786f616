package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.AccessToken;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A per-user stdio server (server-everything from npm) that gets the user's connection token in its environment
 * ({@code "as": "env:VAULT_TOKEN"}): when the user's token changes (here: the user stores a new secret, as a
 * reconnect does), the next call reaches a process started with the new token, and the old process stops once the
 * user's call in flight on it has ended.
 */
class GatewayEnvTokenTest {
    static final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("mcp-servers.json");
        Files.writeString(file, """
                {"servers": {"vaulted": {"command": %s, "args": [%s, "stdio", "m-vaulted"], "per_user": true,
                                         "connection": {"name": "vault", "as": "env:VAULT_TOKEN"}}},
                 "connections": {"vault": {"type": "secret", "display_name": "Vault"}}}
                """.formatted(Json.MAPPER.writeValueAsString(NpmServers.node()), Json.MAPPER.writeValueAsString(NpmServers.everything().toString())));
        server = TestServer.start(Files.createDirectories(dir.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString()));
        OAuthClientSim.addUser(server, "bob", "bob-password-12");
        OAuthClientSim.addUser(server, "alice", "alice-password-1");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static String token(String user) {
        Instant now = Instant.now();
        String resource = server.url + "/mcp/vaulted";
        var issued = server.server.refreshTokens.create("test-client", "local:" + user, "mcp", resource, false, now);
        return server.server.accessTokens.issue(new AccessToken("test-client", "local:" + user, Set.of("mcp"), resource, issued.family().familyId(),
                now.plusSeconds(600)), now);
    }

    static JsonNode call(String user, String tool, String args) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url + "/mcp/vaulted")).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-11-25").header("Authorization", "Bearer " + token(user))
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                        + "\",\"arguments\":" + args + "}}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }

    /** VAULT_TOKEN as the user's process sees it. */
    static String seen(String user) throws Exception {
        JsonNode r = call(user, "get-env", "{}");
        return Json.MAPPER.readTree(r.path("result").path("content").path(0).path("text").asText()).path("VAULT_TOKEN").asText();
    }

    static List<Long> pids() {
        return ProcessHandle.current().descendants().filter(p -> p.info().arguments().map(a -> List.of(a).contains("m-vaulted")).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    static boolean dead(long pid) {
        return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        GatewayLimitsTest.waitFor(condition, what);
    }

    @Test
    void aChangedTokenRestartsTheUsersProcessOnceItsCallsEnded() throws Exception {
        server.server.connections.saveSecret("local:bob", "vault", "token-one", Instant.now());
        server.server.connections.saveSecret("local:alice", "vault", "alice-token", Instant.now());
        assertEquals("token-one", seen("bob"));
        assertEquals("alice-token", seen("alice"));
        assertEquals(2, pids().size());
        assertEquals("token-one", seen("bob"), "the same token: the same process");
        assertEquals(2, pids().size());
        List<Long> before = pids();

        // reconnected with nothing in flight: the next call is served by a new process with the new token
        server.server.connections.saveSecret("local:bob", "vault", "token-two", Instant.now());
        assertEquals("token-two", seen("bob"));
        await("bob's old process stops, alice's keeps running", () -> pids().size() == 2);
        List<Long> after = pids();
        assertEquals(1, after.stream().filter(before::contains).count(), "alice's process is the same: " + before + " " + after);
        long bobPid = after.stream().filter(p -> !before.contains(p)).findFirst().orElseThrow();

        // reconnected while a call is in flight: it finishes on the old process; the next call gets the new token at once
        CompletableFuture<JsonNode> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return call("bob", "trigger-long-running-operation", "{\"duration\":3,\"steps\":3}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(700); // under way in the process started with token-two
        server.server.connections.saveSecret("local:bob", "vault", "token-three", Instant.now());
        assertEquals("token-three", seen("bob"));
        assertFalse(dead(bobPid), "the process with the call in flight is not stopped under it");
        JsonNode finished = inFlight.get(20, TimeUnit.SECONDS);
        assertFalse(finished.path("result").path("isError").asBoolean(), finished.toString());
        assertTrue(finished.path("result").path("content").path(0).path("text").asText().contains("completed"), finished.toString());
        await("the replaced process stops once its call ended", () -> dead(bobPid));
        assertEquals(2, pids().size());
        assertNotEquals(List.of(bobPid), pids());
        assertEquals(2, server.server.gateway.processesByServer().get("vaulted"));
    }
}
