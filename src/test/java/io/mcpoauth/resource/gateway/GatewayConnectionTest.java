package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.core.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream that is a real OAuth-protected MCP server (this server, started on another port with its own local
 * users), fronted by the gateway with {@code "connection": {"name": "up", "as": "bearer"}}: each user connects their own
 * account at the upstream through /connect/up (the upstream's own sign-in and consent pages), and every call reaches the
 * upstream as that user, with the token of that user's connection. A user without a connection is sent to the connect
 * page as the built-in tools do it, per era, and the retry after connecting succeeds.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayConnectionTest {
    static final String PASSWORD = "correct horse battery";
    static final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    static Path dir;
    static TestServer upstream;
    static TestServer gw;
    static String clientId;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestServer.start(Files.createDirectories(dir.resolve("up")));
        OAuthClientSim.addUser(upstream, "alice", PASSWORD);
        OAuthClientSim.addUser(upstream, "bob", PASSWORD);
        int port = TestServer.freePort();
        String gwUrl = "http://127.0.0.1:" + port;
        // the gateway is a client of the upstream's authorization server, registered there with our callback
        OAuthClientSim reg = new OAuthClientSim(upstream);
        reg.register("none", gwUrl + "/connect/callback");
        clientId = reg.clientId;
        Path file = dir.resolve("servers.json");
        Files.writeString(file, """
                {"servers": {"up": {"url": "%s/mcp", "connection": {"name": "up", "as": "bearer"}}},
                 "connections": {"up": {"issuer": "%s", "allow_http": true, "client_id": "%s", "token_endpoint_auth_method": "none",
                                        "scopes": ["mcp"], "authorize_params": {"resource": "%s/mcp"}}}}
                """.formatted(upstream.url, upstream.url, clientId, upstream.url));
        gw = TestServer.start(Files.createDirectories(dir.resolve("gw")), Map.of("MCP_SERVERS_FILE", file.toString(), "PORT", String.valueOf(port)));
        OAuthClientSim.addUser(gw, "alice", PASSWORD);
        OAuthClientSim.addUser(gw, "bob", PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (gw != null) gw.close();
        if (upstream != null) upstream.close();
    }

    /** A user of the gateway: a signed-in browser there, an access token for /mcp/up and one for /mcp. */
    static final class User {
        final String name;
        final OAuthClientSim browser;
        final String upToken;
        final String mcpToken;

        User(String name) {
            this.name = name;
            browser = new OAuthClientSim(gw);
            browser.registerDirect();
            mcpToken = token(browser.authorize(name, PASSWORD, "allow"));
            java.time.Instant now = java.time.Instant.now(); // a token of the same user for /mcp/up (a real grant in the store)
            var issued = gw.server.refreshTokens.create(browser.clientId, "local:" + name, "mcp", gw.url + "/mcp/up", false, now);
            upToken = gw.server.accessTokens.issue(new io.mcpoauth.store.AccessToken(browser.clientId, "local:" + name, java.util.Set.of("mcp"),
                    gw.url + "/mcp/up", issued.family().familyId(), now.plusSeconds(600)), now);
        }

        private String token(Map<String, String> back) {
            HttpResponse<String> t = browser.exchange(back.get("code"));
            assertEquals(200, t.statusCode(), t.body());
            return TestServer.json(t).get("access_token").asText();
        }

        /** /connect/up in the gateway browser, the upstream's sign-in and consent in the user's browser there, back to our callback. */
        void connect() {
            HttpResponse<String> start = browser.browserGet(gw.url + "/connect/up");
            assertEquals(303, start.statusCode(), start.body());
            String authorize = start.headers().firstValue("Location").orElseThrow();
            assertTrue(authorize.startsWith(upstream.url + "/authorize?"), authorize);
            Map<String, String> q = OAuthClientSim.query(authorize);
            assertEquals("S256", q.get("code_challenge_method"));
            assertEquals(upstream.url + "/mcp", q.get("resource"));
            OAuthClientSim there = new OAuthClientSim(upstream);
            HttpResponse<String> r = there.browserGet(authorize);
            String back = null;
            for (int hops = 0; hops < 10 && back == null; hops++) {
                if (r.statusCode() == 302 || r.statusCode() == 303) {
                    String loc = r.headers().firstValue("Location").orElseThrow();
                    if (loc.startsWith(gw.url + "/connect/callback")) {
                        back = loc;
                        break;
                    }
                    r = there.browserGet(loc.startsWith("/") ? upstream.url + loc : loc);
                    continue;
                }
                assertEquals(200, r.statusCode(), r.body());
                Map<String, String> form = OAuthClientSim.hiddenFields(r.body());
                if (r.body().contains("name=\"password\"")) {
                    form.put("username", name);
                    form.put("password", PASSWORD);
                    r = there.browserPost("/login", form);
                } else {
                    form.put("decision", "allow");
                    r = there.browserPost("/consent", form);
                }
            }
            assertTrue(back != null, "the upstream sent the browser back to our callback");
            HttpResponse<String> done = browser.browserGet(back);
            assertEquals(303, done.statusCode(), done.body());
            assertEquals("/account", done.headers().firstValue("Location").orElseThrow());
        }
    }

    static User alice;
    static User bob;

    static GatewayTest.Res post(String path, String token, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.url + path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            json = r.body().isEmpty() ? null : Json.MAPPER.readTree(r.body());
        } catch (Exception ignored) {
            // not JSON
        }
        return new GatewayTest.Res(r.statusCode(), json, r.body());
    }

    static GatewayTest.Res legacyCall(String path, String token, String tool, String version) throws Exception {
        return post(path, token, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}}}",
                "MCP-Protocol-Version", version);
    }

    static GatewayTest.Res modernCall(String path, String token, String tool, String extraParams) throws Exception {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":\"m1\",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}" + extraParams
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":"
                + "{\"elicitation\":{\"url\":{}}},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
        return post(path, token, body, "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", tool);
    }

    /** The upstream's whoami answer (JSON in the text content). */
    static JsonNode whoami(GatewayTest.Res r) throws Exception {
        assertEquals(200, r.status(), r.body());
        assertFalse(r.json().path("result").path("isError").asBoolean(), r.body());
        return Json.MAPPER.readTree(GatewayTest.text(r));
    }

    @Test
    @Order(1)
    void aUserWithoutTheConnectionIsSentToTheConnectPageInEachEra() throws Exception {
        alice = new User("alice");
        bob = new User("bob");
        String connectUrl = gw.url + "/connect/up";
        // 2025-11-25: URLElicitationRequiredError with the connect URL and an elicitationId, on /mcp/up and on /mcp
        for (String[] p : new String[][] {{"/mcp/up", alice.upToken, "whoami"}, {"/mcp", alice.mcpToken, "up_whoami"}}) {
            GatewayTest.Res r = legacyCall(p[0], p[1], p[2], "2025-11-25");
            assertEquals(200, r.status(), r.body());
            assertEquals(-32042, r.json().path("error").path("code").asInt(), r.body());
            JsonNode e = r.json().path("error").path("data").path("elicitations").path(0);
            assertEquals("url", e.path("mode").asText(), r.body());
            assertEquals(connectUrl, e.path("url").asText(), r.body());
            assertFalse(e.path("elicitationId").asText().isEmpty(), r.body());
        }
        // 2025-06-18: a tool error that gives the link
        GatewayTest.Res old = legacyCall("/mcp/up", alice.upToken, "whoami", "2025-06-18");
        assertTrue(old.json().path("result").path("isError").asBoolean(), old.body());
        assertTrue(GatewayTest.text(old).contains(connectUrl), old.body());
        // 2026-07-28 with elicitation.url: input_required with a URL request and a sealed requestState
        for (String[] p : new String[][] {{"/mcp/up", alice.upToken, "whoami"}, {"/mcp", alice.mcpToken, "up_whoami"}}) {
            GatewayTest.Res m = modernCall(p[0], p[1], p[2], "");
            assertEquals(200, m.status(), m.body());
            JsonNode result = m.json().path("result");
            assertEquals("input_required", result.path("resultType").asText(), m.body());
            JsonNode q = result.path("inputRequests").path("connect_up");
            assertEquals("elicitation/create", q.path("method").asText(), m.body());
            assertEquals("url", q.path("params").path("mode").asText(), m.body());
            assertEquals(connectUrl, q.path("params").path("url").asText(), m.body());
            assertFalse(result.path("requestState").asText().isEmpty(), m.body());
        }
    }

    /** initialize on {@code path} declaring {@code caps}: the session id. */
    static String initialize(String path, String token, String caps) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gw.url + path)).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
                        + "\"capabilities\":" + caps + ",\"clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("Mcp-Session-Id").orElseThrow(() -> new AssertionError("no session id on " + path));
    }

    @Test
    @Order(1)
    void theGatewaysLegacyPathsUseTheSessionsCapabilitiesAndAnnounceTheCompletedConnect() throws Exception {
        OAuthClientSim.addUser(gw, "carol", PASSWORD);
        OAuthClientSim.addUser(upstream, "carol", PASSWORD);
        User carol = new User("carol");
        String connectUrl = gw.url + "/connect/up";
        String up = initialize("/mcp/up", carol.upToken, "{\"elicitation\":{\"url\":{}}}");
        String formOnly = initialize("/mcp", carol.mcpToken, "{\"elicitation\":{\"form\":{}}}");
        // a client that cannot open URLs: the tool error with the link, on /mcp too
        GatewayTest.Res noUrl = post("/mcp", carol.mcpToken, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"up_whoami\",\"arguments\":{}}}",
                "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", formOnly);
        assertTrue(noUrl.json().path("result").path("isError").asBoolean(), noUrl.body());
        assertTrue(GatewayTest.text(noUrl).contains(connectUrl), noUrl.body());
        // a session is bound to its endpoint
        GatewayTest.Res elsewhere = post("/mcp", carol.mcpToken, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", up);
        assertEquals(404, elsewhere.status(), elsewhere.body());

        HttpResponse<java.io.InputStream> stream = http.send(HttpRequest.newBuilder(URI.create(gw.url + "/mcp/up")).header("Accept", "text/event-stream")
                .header("Authorization", "Bearer " + carol.upToken).header("Mcp-Session-Id", up).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(stream.body(), java.nio.charset.StandardCharsets.UTF_8))) {
                for (String l; (l = in.readLine()) != null; ) lines.add(l);
            } catch (java.io.IOException e) {
                // closed
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            GatewayTest.Res r = post("/mcp/up", carol.upToken, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}",
                    "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", up);
            assertEquals(-32042, r.json().path("error").path("code").asInt(), r.body());
            String elicitationId = r.json().path("error").path("data").path("elicitations").path(0).path("elicitationId").asText();
            carol.connect();
            JsonNode n = null;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (n == null && System.nanoTime() < deadline) {
                String l = lines.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (l != null && l.startsWith("data: ")) n = Json.MAPPER.readTree(l.substring(6));
            }
            assertTrue(n != null, "a message on the session's stream; lines: " + lines);
            assertEquals("notifications/elicitation/complete", n.path("method").asText(), n.toString());
            assertEquals(elicitationId, n.path("params").path("elicitationId").asText());
            GatewayTest.Res ok = post("/mcp/up", carol.upToken, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}",
                    "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", up);
            assertEquals("local:carol", whoami(ok).path("subject").asText());
        } finally {
            stream.body().close();
        }
    }

    @Test
    @Order(2)
    void eachUserReachesTheUpstreamAsThemselvesWithTheirOwnConnection() throws Exception {
        // bob asks first (modern), connects, and retries with the requestState: the retry reaches the upstream
        GatewayTest.Res ask = modernCall("/mcp/up", bob.upToken, "whoami", "");
        String state = ask.json().path("result").path("requestState").asText();
        alice.connect();
        bob.connect();
        GatewayTest.Res retry = modernCall("/mcp/up", bob.upToken, "whoami",
                ",\"requestState\":" + Json.MAPPER.writeValueAsString(state) + ",\"inputResponses\":{\"connect_up\":{\"action\":\"accept\"}}");
        assertEquals("complete", retry.json().path("result").path("resultType").asText(), retry.body());
        assertEquals("local:bob", whoami(retry).path("subject").asText());

        for (int round = 0; round < 3; round++) { // interleaved: never the other user's token
            JsonNode a = whoami(legacyCall("/mcp/up", alice.upToken, "whoami", "2025-11-25"));
            assertEquals("local:alice", a.path("subject").asText());
            assertEquals(clientId, a.path("client_id").asText(), "the upstream sees the token of our connection client, never our own token");
            JsonNode b = whoami(legacyCall("/mcp/up", bob.upToken, "whoami", "2025-11-25"));
            assertEquals("local:bob", b.path("subject").asText());
            assertEquals(clientId, b.path("client_id").asText());
            assertEquals("local:alice", whoami(legacyCall("/mcp", alice.mcpToken, "up_whoami", "2025-11-25")).path("subject").asText());
            assertEquals("local:bob", whoami(modernCall("/mcp", bob.mcpToken, "up_whoami", "")).path("subject").asText());
        }
        // our own access token is refused by the upstream: it never could have been what reached it
        HttpResponse<String> direct = http.send(HttpRequest.newBuilder(URI.create(upstream.url + "/mcp")).header("Authorization", "Bearer " + alice.upToken)
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, direct.statusCode(), direct.body());
    }

    @Test
    @Order(3)
    void afterDisconnectTheUpstreamTokenIsRevokedAndAnAnsweredOrForgedRetryIsNotLooped() throws Exception {
        String upstreamToken = gw.server.connections.token("local:alice", "up").accessToken();
        assertEquals(200, upstreamWhoami(upstreamToken).statusCode(), "alice's connection token works at the upstream");
        HttpRequest del = HttpRequest.newBuilder(URI.create(gw.url + "/api/me/connections/up")).header("Authorization", "Bearer " + alice.mcpToken)
                .DELETE().build();
        HttpResponse<String> d = http.send(del, HttpResponse.BodyHandlers.ofString());
        assertTrue(d.statusCode() == 200 || d.statusCode() == 204, d.statusCode() + " " + d.body());
        assertEquals(401, upstreamWhoami(upstreamToken).statusCode(), "disconnect revoked the token at the upstream (its /revoke)");
        // disconnected: asked to connect again
        GatewayTest.Res ask = modernCall("/mcp/up", alice.upToken, "whoami", "");
        assertEquals("input_required", ask.json().path("result").path("resultType").asText(), ask.body());
        String state = ask.json().path("result").path("requestState").asText();
        // answered but still not connected: a tool error with the link, not another question
        GatewayTest.Res again = modernCall("/mcp/up", alice.upToken, "whoami",
                ",\"requestState\":" + Json.MAPPER.writeValueAsString(state) + ",\"inputResponses\":{\"connect_up\":{\"action\":\"accept\"}}");
        assertTrue(again.json().path("result").path("isError").asBoolean(), again.body());
        assertTrue(GatewayTest.text(again).contains(gw.url + "/connect/up"), again.body());
        // a forged state is not an answer: asked again
        GatewayTest.Res forged = modernCall("/mcp/up", alice.upToken, "whoami",
                ",\"requestState\":\"gw1.99999999999.AAAA\",\"inputResponses\":{\"connect_up\":{\"action\":\"accept\"}}");
        assertEquals("input_required", forged.json().path("result").path("resultType").asText(), forged.body());
        // bob is still connected and still himself
        assertEquals("local:bob", whoami(legacyCall("/mcp/up", bob.upToken, "whoami", "2025-11-25")).path("subject").asText());
        assertNotEquals(alice.upToken, bob.upToken);
    }

    static HttpResponse<String> upstreamWhoami(String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(upstream.url + "/mcp")).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-11-25")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aServerNamingAConnectionThatIsNotConfiguredIsAStartError() throws Exception {
        Path file = dir.resolve("bad-servers.json");
        Files.writeString(file, "{\"servers\": {\"x\": {\"url\": \"http://127.0.0.1:9/mcp\", \"connection\": {\"name\": \"gh\", \"as\": \"bearer\"}}}}");
        ConfigException e = assertThrows(ConfigException.class, () -> TestServer.start(Files.createDirectories(dir.resolve("bad")),
                Map.of("MCP_SERVERS_FILE", file.toString())));
        assertEquals(file + ": servers.x.connection.name: 'gh' is not a configured connection (declare it under \"connections\")", e.getMessage());
    }
}
