package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.connect.Connections;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code "connections": {"up": {"mcp_server": "up"}}}: the gateway is an MCP OAuth client of the upstream (this server
 * on its own port, with local users): at the first connect it discovers the upstream's authorization server from its 401
 * and registers itself there (DCR with our callback); each user then connects and reaches the upstream as themselves.
 */
class McpServerConnectionTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        GatewayConnectionTest.upstream = TestServer.start(Files.createDirectories(dir.resolve("up")));
        OAuthClientSim.addUser(GatewayConnectionTest.upstream, "alice", GatewayConnectionTest.PASSWORD);
        OAuthClientSim.addUser(GatewayConnectionTest.upstream, "bob", GatewayConnectionTest.PASSWORD);
        Path file = dir.resolve("servers.json");
        Files.writeString(file, """
                {"servers": {"up": {"url": "%s/mcp", "connection": {"name": "up", "as": "bearer"}}},
                 "connections": {"up": {"mcp_server": "up"}}}
                """.formatted(GatewayConnectionTest.upstream.url));
        GatewayConnectionTest.gw = TestServer.start(Files.createDirectories(dir.resolve("gw")), Map.of("MCP_SERVERS_FILE", file.toString()));
        OAuthClientSim.addUser(GatewayConnectionTest.gw, "alice", GatewayConnectionTest.PASSWORD);
        OAuthClientSim.addUser(GatewayConnectionTest.gw, "bob", GatewayConnectionTest.PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (GatewayConnectionTest.gw != null) GatewayConnectionTest.gw.close();
        if (GatewayConnectionTest.upstream != null) GatewayConnectionTest.upstream.close();
        GatewayConnectionTest.gw = null;
        GatewayConnectionTest.upstream = null;
    }

    @Test
    void eachUserConnectsTheUpstreamsOwnOAuthAndReachesItAsThemselves() throws Exception {
        TestServer gw = GatewayConnectionTest.gw;
        TestServer upstream = GatewayConnectionTest.upstream;
        GatewayConnectionTest.User alice = new GatewayConnectionTest.User("alice");
        GatewayConnectionTest.User bob = new GatewayConnectionTest.User("bob");
        GatewayTest.Res before = GatewayConnectionTest.legacyCall("/mcp/up", alice.upToken, "whoami", "2025-11-25");
        assertEquals(-32042, before.json().path("error").path("code").asInt(), before.body());

        alice.connect();
        bob.connect();
        JsonNode a = GatewayConnectionTest.whoami(GatewayConnectionTest.legacyCall("/mcp/up", alice.upToken, "whoami", "2025-11-25"));
        JsonNode b = GatewayConnectionTest.whoami(GatewayConnectionTest.legacyCall("/mcp/up", bob.upToken, "whoami", "2025-11-25"));
        assertEquals("local:alice", a.path("subject").asText());
        assertEquals("local:bob", b.path("subject").asText());
        assertEquals("local:alice", GatewayConnectionTest.whoami(GatewayConnectionTest.modernCall("/mcp", alice.mcpToken, "up_whoami", ""))
                .path("subject").asText());
        // one registration at the upstream, made by us with our callback, used by both users
        String clientId = a.path("client_id").asText();
        assertEquals(clientId, b.path("client_id").asText());
        var client = upstream.server.clients.get(clientId);
        assertNotNull(client, "registered at the upstream's authorization server");
        assertEquals(List.of(gw.url + "/connect/callback"), client.redirectUris());
        assertNotNull(gw.server.stores.connections().get(Connections.REGISTRATION_USER, "up"), "the registration is kept in the store");

        // bob's upstream token runs out: the vault refreshes it at the upstream (which checks the resource named in the
        // refresh against the grant's) and the call goes through as bob
        var stored = gw.server.stores.connections().get("local:bob", "up");
        var due = stored.next(stored.keyId(), stored.accessCiphertext(), stored.refreshCiphertext(), java.time.Instant.now(), stored.scopes(),
                stored.account(), stored.status(), stored.refreshedAt(), stored.lastUsedAt(), null, null);
        assertTrue(gw.server.stores.connections().replace(stored, due));
        assertEquals("local:bob", GatewayConnectionTest.whoami(GatewayConnectionTest.legacyCall("/mcp/up", bob.upToken, "whoami", "2025-11-25"))
                .path("subject").asText());
        var refreshed = gw.server.stores.connections().get("local:bob", "up");
        assertNotNull(refreshed.refreshedAt(), "refreshed at the upstream");
        assertTrue(refreshed.expiresAt().isAfter(java.time.Instant.now().plusSeconds(60)), "a fresh upstream token: " + refreshed.expiresAt());

        // disconnect revokes at the upstream
        String token = gw.server.connections.token("local:alice", "up").accessToken();
        assertEquals(200, GatewayConnectionTest.upstreamWhoami(token).statusCode());
        HttpResponse<String> d = GatewayConnectionTest.http.send(HttpRequest.newBuilder(URI.create(gw.url + "/api/me/connections/up"))
                .header("Authorization", "Bearer " + alice.mcpToken).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(d.statusCode() == 200 || d.statusCode() == 204, d.body());
        assertEquals(401, GatewayConnectionTest.upstreamWhoami(token).statusCode(), "revoked at the upstream");
        assertEquals("local:bob", GatewayConnectionTest.whoami(GatewayConnectionTest.legacyCall("/mcp/up", bob.upToken, "whoami", "2025-11-25"))
                .path("subject").asText());
    }

    @Test
    void ourClientIdMetadataDocumentIsServedForAnMcpServerConnectionOnly() throws Exception {
        TestServer gw = GatewayConnectionTest.gw;
        HttpResponse<String> doc = GatewayConnectionTest.http.send(HttpRequest.newBuilder(URI.create(gw.url + "/connect/client-metadata/up.json")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, doc.statusCode(), doc.body());
        JsonNode d = TestServer.json(doc);
        assertEquals(gw.url + "/connect/client-metadata/up.json", d.path("client_id").asText());
        assertEquals(gw.url + "/connect/callback", d.path("redirect_uris").path(0).asText());
        assertEquals("none", d.path("token_endpoint_auth_method").asText());
        HttpResponse<String> none = GatewayConnectionTest.http.send(HttpRequest.newBuilder(URI.create(gw.url + "/connect/client-metadata/other.json")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, none.statusCode(), none.body());
    }

    @Test
    void theServerStartsWhileTheUpstreamIsDownAndConnectingSaysWhy() throws Exception {
        Path file = dir.resolve("down.json");
        Files.writeString(file, """
                {"servers": {"gone": {"url": "http://127.0.0.1:%d/mcp", "connection": {"name": "gone", "as": "bearer"}}},
                 "connections": {"gone": {"mcp_server": "gone"}}}
                """.formatted(TestServer.freePort()));
        try (TestServer s = TestServer.start(Files.createDirectories(dir.resolve("down")), Map.of("MCP_SERVERS_FILE", file.toString()))) {
            OAuthClientSim.addUser(s, "carol", GatewayConnectionTest.PASSWORD);
            OAuthClientSim browser = new OAuthClientSim(s);
            browser.registerDirect();
            browser.authorize("carol", GatewayConnectionTest.PASSWORD, "allow");
            HttpResponse<String> r = browser.browserGet(s.url + "/connect/gone");
            assertEquals(502, r.statusCode(), r.body());
            assertTrue(r.body().contains("cannot be reached"), r.body());
        }
    }
}
