package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in front of real MCP servers from npm: server-everything over Streamable HTTP and over stdio, and
 * server-filesystem as a per-user stdio server, reached with real tokens over real HTTP in both MCP eras.
 */
class GatewayTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static Process everything;
    static int upstreamPort;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstreamPort = TestServer.freePort();
        everything = NpmServers.everythingHttp(upstreamPort);
        Path files = Files.createDirectories(dir.resolve("files"));
        Files.createDirectories(files.resolve("local_alice"));
        Files.createDirectories(files.resolve("local_bob"));
        int closed = TestServer.freePort();
        String node = Json.MAPPER.writeValueAsString(NpmServers.node());
        String everythingJs = Json.MAPPER.writeValueAsString(NpmServers.everything().toString());
        String servers = """
                {"servers": {
                  "web": {"url": "http://127.0.0.1:%d/mcp", "timeout_seconds": 20, "tools": {"deny": ["get-env"]}},
                  "slow": {"url": "http://127.0.0.1:%d/mcp", "timeout_seconds": 2, "tools": {"allow": ["trigger-long-running-operation"]}},
                  "down": {"url": "http://127.0.0.1:%d/mcp", "timeout_seconds": 3},
                  "local": {"command": %s, "args": [%s, "stdio"], "env": {"GREETING": "hello from ${GREETING_SOURCE}"}},
                  "files": {"command": %s, "args": [%s, %s], "per_user": true, "idle_timeout_seconds": 6,
                            "tools": {"allow": ["write_file", "read_text_file", "list_directory", "list_allowed_directories"]}},
                  "team": {"url": "http://127.0.0.1:%d/mcp", "access": {"users": ["bob"]}}
                }}
                """.formatted(upstreamPort, upstreamPort, closed, node, everythingJs, node,
                Json.MAPPER.writeValueAsString(NpmServers.filesystem().toString()), Json.MAPPER.writeValueAsString(files + "/{user}"), upstreamPort);
        Path file = dir.resolve("mcp-servers.json");
        Files.writeString(file, servers);
        server = TestServer.start(Files.createDirectories(dir.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString(),
                "GREETING_SOURCE", "the servers file", "ADMIN_TOKEN", "a-very-secret-admin-token-0123456789abcdef"));
        OAuthClientSim.addUser(server, "alice", "alice-password-1");
        OAuthClientSim.addUser(server, "bob", "bob-password-12");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) server.close();
        NpmServers.stop(everything);
    }

    static String token(String user, String resourcePath) {
        return server.accessToken(user, resourcePath);
    }

    record Res(int status, JsonNode json, String body) {}

    static Res post(String path, String token, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            String text = r.body();
            if (r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) { // the answer is the stream's last message
                int at = text.lastIndexOf("data: ");
                text = at < 0 ? "" : text.substring(at + 6, text.indexOf('\n', at) < 0 ? text.length() : text.indexOf('\n', at));
            }
            json = text.isEmpty() ? null : Json.MAPPER.readTree(text);
        } catch (Exception ignored) {
            // not JSON
        }
        return new Res(r.statusCode(), json, r.body());
    }

    static Res legacy(String path, String token, String method, String params) throws Exception {
        return post(path, token, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\"" + (params == null ? "" : ",\"params\":" + params) + "}",
                "MCP-Protocol-Version", "2025-11-25");
    }

    static Res call(String path, String token, String tool, String args) throws Exception {
        return legacy(path, token, "tools/call", "{\"name\":\"" + tool + "\",\"arguments\":" + args + "}");
    }

    static Res modernCall(String path, String token, String tool, String args) throws Exception {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":\"m1\",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":" + args
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},"
                + "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
        return post(path, token, body, "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", tool);
    }

    static String text(Res r) {
        return r.json.path("result").path("content").path(0).path("text").asText();
    }

    static List<String> toolNames(Res r) {
        List<String> out = new ArrayList<>();
        r.json.path("result").path("tools").forEach(t -> out.add(t.path("name").asText()));
        return out;
    }

    @Test
    void legacyClientReachesTheHttpUpstreamThroughItsOwnEndpoint() throws Exception {
        String t = token("alice", "/mcp/web");
        Res init = legacy("/mcp/web", t, "initialize", "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"sdk\",\"version\":\"1\"}}");
        assertEquals(200, init.status, init.body);
        assertEquals("2025-06-18", init.json.path("result").path("protocolVersion").asText(), init.body);
        assertTrue(init.json.path("result").path("capabilities").has("tools"), init.body);
        assertFalse(init.json.has("Mcp-Session-Id"));
        Res list = legacy("/mcp/web", t, "tools/list", "{}");
        assertEquals(200, list.status, list.body);
        List<String> names = toolNames(list);
        assertTrue(names.contains("echo"), names.toString());
        assertFalse(names.contains("get-env"), "denied tools are hidden: " + names);
        Res echo = call("/mcp/web", t, "echo", "{\"message\":\"hi there\"}");
        assertEquals(200, echo.status, echo.body);
        assertEquals("Echo: hi there", text(echo), echo.body);
        Res denied = call("/mcp/web", t, "get-env", "{}");
        assertEquals(-32602, denied.json.path("error").path("code").asInt(), denied.body);
        Res structured = call("/mcp/web", t, "get-structured-content", "{\"location\":\"New York\"}");
        assertTrue(structured.json.path("result").has("structuredContent"), "structuredContent is relayed: " + structured.body);
    }

    @Test
    void modernClientReachesTheStdioUpstream() throws Exception {
        String t = token("alice", "/mcp/local");
        Res echo = modernCall("/mcp/local", t, "echo", "{\"message\":\"modern\"}");
        assertEquals(200, echo.status, echo.body);
        assertEquals("Echo: modern", text(echo), echo.body);
        assertEquals("complete", echo.json.path("result").path("resultType").asText(), echo.body);
        String discoverBody = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                + "\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
        Res discover = post("/mcp/local", t, discoverBody, "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "server/discover");
        assertEquals(200, discover.status, discover.body);
        assertTrue(discover.json.path("result").path("capabilities").has("tools") && discover.json.path("result").path("capabilities").has("prompts"),
                discover.body);
        String listBody = discoverBody.replace("server/discover", "tools/list");
        Res list = post("/mcp/local", t, listBody, "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/list");
        assertTrue(toolNames(list).contains("echo"), list.body);
        assertEquals("complete", list.json.path("result").path("resultType").asText(), list.body);
        for (String method : List.of("prompts/list", "resources/list")) {
            Res r = post("/mcp/local", t, discoverBody.replace("server/discover", method), "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", method);
            assertEquals(200, r.status, r.body);
            assertTrue(r.json.path("result").path("ttlMs").isNumber() && "private".equals(r.json.path("result").path("cacheScope").asText()),
                    "2026-07-28 list results carry cache hints: " + r.body);
        }
        Res legacyEcho = call("/mcp/local", t, "echo", "{\"message\":\"legacy\"}");
        assertEquals("Echo: legacy", text(legacyEcho), legacyEcho.body);
    }

    /** The JSON-RPC messages of an SSE body, in order. */
    static List<JsonNode> events(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            StringBuilder data = new StringBuilder();
            for (String line : event.split("\n")) if (line.startsWith("data: ")) data.append(line.substring(6));
            if (data.length() > 0) out.add(Json.MAPPER.readTree(data.toString()));
        }
        return out;
    }

    @Test
    void progressNotificationsOfTheUpstreamReachTheLegacyClient() throws Exception {
        for (String path : List.of("/mcp/local", "/mcp/web", "/mcp")) {
            String tool = path.equals("/mcp") ? "local_trigger-long-running-operation" : "trigger-long-running-operation";
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                    .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .header("MCP-Protocol-Version", "2025-11-25").header("Authorization", "Bearer " + token("alice", path))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                            + "\",\"arguments\":{\"duration\":1,\"steps\":2},\"_meta\":{\"progressToken\":\"p-42\"}}}"));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), path + ": " + r.headers().map());
            List<JsonNode> events = events(r.body());
            List<JsonNode> progress = events.stream().filter(e -> "notifications/progress".equals(e.path("method").asText())).toList();
            assertEquals(2, progress.size(), path + ": " + r.body());
            for (JsonNode p : progress) assertEquals("p-42", p.path("params").path("progressToken").asText(), r.body());
            JsonNode last = events.get(events.size() - 1);
            assertEquals(5, last.path("id").asInt(), r.body());
            assertFalse(last.path("result").path("isError").asBoolean(), r.body());
        }
    }

    @Test
    void aClientsCancellationEndsTheUpstreamCall() throws Exception {
        for (String path : List.of("/mcp/local", "/mcp/web")) {
            String t = token("bob", path);
            long t0 = System.nanoTime();
            java.util.concurrent.CompletableFuture<Res> running = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return post(path, t, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"tools/call\",\"params\":{\"name\":\"trigger-long-running-operation\","
                            + "\"arguments\":{\"duration\":15,\"steps\":3}}}", "MCP-Protocol-Version", "2025-11-25");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(1000); // the call is under way upstream
            Res cancel = post(path, t, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":77,\"reason\":\"user\"}}",
                    "MCP-Protocol-Version", "2025-11-25");
            assertEquals(202, cancel.status, cancel.body);
            Res ended = running.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(text(ended).contains("cancelled"), path + ": " + ended.body);
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(8).toNanos(), path + " ended long before the operation's 15 s");
        }
    }

    @Test
    void theStdioChildGetsOnlyItsOwnEnvironment() throws Exception {
        Res env = call("/mcp/local", token("alice", "/mcp/local"), "get-env", "{}");
        assertEquals(200, env.status, env.body);
        JsonNode vars = Json.MAPPER.readTree(text(env));
        assertEquals("hello from the servers file", vars.path("GREETING").asText(), text(env));
        List<String> extra = new ArrayList<>();
        vars.fieldNames().forEachRemaining(k -> {
            if (!StdioUpstream.BASE_ENV.contains(k) && !k.equals("GREETING")) extra.add(k);
        });
        assertEquals(List.of(), extra, "nothing of the server's own environment reaches the child");
        assertFalse(text(env).contains("a-very-secret-admin-token"));
        long ours = System.getenv().keySet().stream().filter(k -> !StdioUpstream.BASE_ENV.contains(k)).count();
        assertTrue(ours > 0, "the test's own environment has variables the child must not see");
    }

    @Test
    void perUserFilesystemKeepsEachUserToTheirOwnDirectoryAndStopsWhenIdle() throws Exception {
        String alice = token("alice", "/mcp/files");
        String bob = token("bob", "/mcp/files");
        Path aliceDir = dir.resolve("files/local_alice");
        Res dirs = call("/mcp/files", alice, "list_allowed_directories", "{}");
        assertTrue(text(dirs).contains("local_alice") && !text(dirs).contains("local_bob"), dirs.body);
        Res write = call("/mcp/files", alice, "write_file", Json.MAPPER.writeValueAsString(Map.of("path", aliceDir.resolve("secret.txt").toString(),
                "content", "alice's secret")));
        assertFalse(write.json.path("result").path("isError").asBoolean(), write.body);
        assertEquals("alice's secret", Files.readString(aliceDir.resolve("secret.txt")));
        Res bobReads = call("/mcp/files", bob, "read_text_file", Json.MAPPER.writeValueAsString(Map.of("path", aliceDir.resolve("secret.txt").toString())));
        assertTrue(bobReads.json.path("result").path("isError").asBoolean(), "bob's process may not read alice's directory: " + bobReads.body);
        assertFalse(bobReads.body.contains("alice's secret"));
        Res bobLists = call("/mcp/files", bob, "list_directory", Json.MAPPER.writeValueAsString(Map.of("path", dir.resolve("files/local_bob").toString())));
        assertFalse(bobLists.body.contains("secret.txt"), bobLists.body);
        assertEquals(2, server.server.gateway.processesByServer().get("files"));
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (server.server.gateway.processesByServer().get("files") > 0 && System.nanoTime() < until) Thread.sleep(100);
        assertEquals(0, server.server.gateway.processesByServer().get("files"), "idle processes stop after the idle timeout");
        Res again = call("/mcp/files", alice, "read_text_file", Json.MAPPER.writeValueAsString(Map.of("path", aliceDir.resolve("secret.txt").toString())));
        assertTrue(text(again).contains("alice's secret"), "a stopped process starts again on the next call: " + again.body);
    }

    @Test
    void aTokenServesOnlyTheResourceItWasIssuedFor() throws Exception {
        String web = token("alice", "/mcp/web");
        assertEquals(401, legacy("/mcp/local", web, "tools/list", "{}").status);
        HttpResponse<String> challenge = http.send(HttpRequest.newBuilder(URI.create(server.url + "/mcp/local")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, challenge.statusCode());
        assertTrue(challenge.headers().firstValue("WWW-Authenticate").orElse("").contains(server.url + "/.well-known/oauth-protected-resource/mcp/local"),
                challenge.headers().map().toString());
        assertEquals(401, legacy("/mcp", web, "tools/list", "{}").status);
        String aggregate = token("alice", "/mcp");
        Res refused = legacy("/mcp/web", aggregate, "tools/list", "{}");
        assertEquals(401, refused.status);
        HttpResponse<String> meta = server.get("/.well-known/oauth-protected-resource/mcp/web");
        assertEquals(200, meta.statusCode());
        assertEquals(server.url + "/mcp/web", TestServer.json(meta).path("resource").asText());
    }

    @Test
    void accessListsRefuseOtherUsersBeforeTheUpstream() throws Exception {
        Res alice = legacy("/mcp/team", token("alice", "/mcp/team"), "tools/list", "{}");
        assertEquals(403, alice.status, alice.body);
        Res bob = call("/mcp/team", token("bob", "/mcp/team"), "echo", "{\"message\":\"b\"}");
        assertEquals("Echo: b", text(bob), bob.body);
        Res aggregate = legacy("/mcp", token("alice", "/mcp"), "tools/list", "{}");
        assertFalse(toolNames(aggregate).stream().anyMatch(n -> n.startsWith("team_")), aggregate.body);
        Res call = call("/mcp", token("alice", "/mcp"), "team_echo", "{\"message\":\"x\"}");
        assertTrue(call.json.path("result").path("isError").asBoolean(), call.body);
    }

    @Test
    void theAggregateEndpointPrefixesAndRoutes() throws Exception {
        String t = token("alice", "/mcp");
        Res list = legacy("/mcp", t, "tools/list", "{}");
        assertEquals(200, list.status, list.body);
        List<String> names = toolNames(list);
        assertEquals("whoami", names.get(0), names.toString());
        assertTrue(names.contains("web_echo") && names.contains("local_echo") && names.contains("local_get-env"), names.toString());
        assertFalse(names.contains("web_get-env"), "deny holds on /mcp too: " + names);
        assertEquals(List.of("slow_trigger-long-running-operation"), names.stream().filter(n -> n.startsWith("slow_")).toList(), "allow holds");
        int firstFiles = names.indexOf("files_write_file");
        int firstLocal = names.indexOf("local_echo");
        int firstWeb = names.indexOf("web_echo");
        assertTrue(firstFiles > 0 && firstFiles < firstLocal && firstLocal < firstWeb, "servers by name after the built-ins: " + names);
        for (String n : names) assertTrue(n.matches("[A-Za-z0-9_.-]{1,128}"), n);
        assertEquals("Echo: routed", text(call("/mcp", t, "web_echo", "{\"message\":\"routed\"}")));
        Res builtin = call("/mcp", t, "whoami", "{}");
        assertTrue(text(builtin).contains("alice"), builtin.body);
        Res prompts = legacy("/mcp", t, "prompts/list", "{}");
        assertTrue(prompts.body.contains("\"local_simple-prompt\"") || prompts.body.contains("local_"), prompts.body);
        Res resources = legacy("/mcp", t, "resources/list", "{}");
        JsonNode first = resources.json.path("result").path("resources").path(0);
        assertTrue(first.path("uri").asText().startsWith("mcp-gateway://"), resources.body);
        Res read = legacy("/mcp", t, "resources/read", "{\"uri\":" + Json.MAPPER.writeValueAsString(first.path("uri").asText()) + "}");
        assertEquals(first.path("uri").asText(), read.json.path("result").path("contents").path(0).path("uri").asText(), read.body);
        Res modern = modernCall("/mcp", t, "local_echo", "{\"message\":\"m\"}");
        assertEquals("Echo: m", text(modern), modern.body);
        String metrics = server.server.ops.metrics().render();
        assertTrue(metrics.matches("(?s).*mcp_oauth_gateway_calls_total\\{server=\"web\"} [1-9].*"), metrics);
        assertTrue(metrics.contains("mcp_oauth_gateway_call_duration_seconds_bucket{server=\"web\",le=\"+Inf\"}"), metrics);
        assertTrue(metrics.contains("mcp_oauth_gateway_processes{server=\"files\"}"), metrics);
    }

    @Test
    void anUpstreamThatIsDownOrSlowGivesAToolErrorWithinItsTimeout() throws Exception {
        long t0 = System.nanoTime();
        Res down = call("/mcp/down", token("alice", "/mcp/down"), "echo", "{\"message\":\"x\"}");
        assertEquals(200, down.status, down.body);
        assertTrue(down.json.path("result").path("isError").asBoolean(), down.body);
        assertTrue(text(down).contains("down"), down.body);
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos());
        t0 = System.nanoTime();
        Res slow = call("/mcp/slow", token("alice", "/mcp/slow"), "trigger-long-running-operation", "{\"duration\":15,\"steps\":3}");
        long took = System.nanoTime() - t0;
        assertTrue(slow.json.path("result").path("isError").asBoolean(), slow.body);
        assertTrue(text(slow).contains("did not answer within 2 s"), slow.body);
        assertTrue(took < Duration.ofSeconds(6).toNanos(), "ended at the timeout, took " + took / 1_000_000 + " ms");
    }

    @Test
    void anUpstreamRestartIsInvisibleToClients() throws Exception {
        String t = token("bob", "/mcp/web");
        assertEquals("Echo: before", text(call("/mcp/web", t, "echo", "{\"message\":\"before\"}")));
        NpmServers.stop(everything);
        everything = NpmServers.everythingHttp(upstreamPort);
        Res after = call("/mcp/web", t, "echo", "{\"message\":\"after\"}");
        assertEquals("Echo: after", text(after), "the forgotten session is re-created transparently: " + after.body);
    }

    static String[] cli(String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int rc;
        try {
            rc = new io.mcpoauth.admin.ServersCommand().run(List.of(args), new io.mcpoauth.admin.Cli(new java.io.PrintStream(out, true),
                    new java.io.PrintStream(err, true), java.io.InputStream.nullInputStream(), () -> server.server.settings));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return new String[] {String.valueOf(rc), out.toString(), err.toString()};
    }

    @Test
    void serversCommandsListAndCheck() {
        String[] list = cli("list");
        assertEquals("0", list[0], list[2]);
        assertTrue(list[1].contains("web") && list[1].contains("stdio, per user") && list[1].contains(server.url + "/mcp/files"), list[1]);
        String[] ok = cli("check", "local");
        assertEquals("0", ok[0], ok[1] + ok[2]);
        assertTrue(ok[1].contains("Era:       legacy, protocol version 2025-") && ok[1].contains("Result:    ok"), ok[1]);
        String[] down = cli("check", "down");
        assertEquals("1", down[0], down[1]);
        assertTrue(down[1].contains("FAILED") && down[1].contains("cannot be reached"), down[1]);
        String[] unknown = cli("check", "nope");
        assertEquals("1", unknown[0]);
        assertTrue(unknown[2].contains("No server named 'nope'"), unknown[2]);
    }

    @Test
    void theAdminApiListsAndChecksServers() throws Exception {
        String admin = "a-very-secret-admin-token-0123456789abcdef";
        HttpResponse<String> list = server.send(server.request("/admin/api/servers").header("Authorization", "Bearer " + admin).GET());
        assertEquals(200, list.statusCode(), list.body());
        JsonNode servers = TestServer.json(list).path("servers");
        assertEquals(6, servers.size(), list.body());
        assertEquals("down", servers.path(0).path("name").asText(), list.body());
        HttpResponse<String> check = server.send(server.request("/admin/api/servers/local/check").header("Authorization", "Bearer " + admin)
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, check.statusCode(), check.body());
        assertTrue(TestServer.json(check).path("tools").asInt() > 5, check.body());
        HttpResponse<String> none = server.send(server.request("/admin/api/servers/nope/check").header("Authorization", "Bearer " + admin)
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(404, none.statusCode(), none.body());
        assertEquals(401, server.send(server.request("/admin/api/servers").GET()).statusCode());
    }

    @Test
    void serversCheckConnectsAndReportsTheEra() {
        Gateway.Check ok = server.server.gateway.check("local");
        assertNotNull(ok.protocolVersion(), ok.toString());
        assertTrue(ok.tools() > 5 && ok.error() == null, ok.toString());
        Gateway.Check down = server.server.gateway.check("down");
        assertEquals(-1, down.tools());
        assertNotNull(down.error());
    }

    @Test
    void oneSignInGrantsTokensForEachServerAndConsentNamesIt() throws Exception {
        OAuthClientSim client = new OAuthClientSim(server);
        client.registerDirect();
        Map<String, String> back = client.authorize("alice", "alice-password-1", "allow", Map.of("resource", server.url + "/mcp/web"));
        assertNotNull(back.get("code"), back.toString());
        assertTrue(client.lastConsentPage.contains("the MCP server <strong>web</strong>"), client.lastConsentPage);
        HttpResponse<String> tokens = client.token(TestServer.map("grant_type", "authorization_code", "code", back.get("code"), "code_verifier",
                client.verifier, "redirect_uri", client.redirectUri, "resource", server.url + "/mcp/web"));
        assertEquals(200, tokens.statusCode(), tokens.body());
        String access = TestServer.json(tokens).path("access_token").asText();
        String refresh = TestServer.json(tokens).path("refresh_token").asText();
        assertEquals("Echo: signed in", text(call("/mcp/web", access, "echo", "{\"message\":\"signed in\"}")));
        assertEquals(401, legacy("/mcp", access, "tools/list", "{}").status);

        HttpResponse<String> widened = client.token(TestServer.map("grant_type", "refresh_token", "refresh_token", refresh, "resource", server.url + "/mcp"));
        assertEquals(400, widened.statusCode(), widened.body());
        assertEquals("invalid_target", TestServer.json(widened).path("error").asText());
        HttpResponse<String> kept = client.token(TestServer.map("grant_type", "refresh_token", "refresh_token", refresh));
        assertEquals(200, kept.statusCode(), kept.body());
        assertEquals("Echo: refreshed", text(call("/mcp/web", TestServer.json(kept).path("access_token").asText(), "echo", "{\"message\":\"refreshed\"}")));

        int pages = client.consentPages;
        client.authorize("alice", "alice-password-1", "allow", Map.of("resource", server.url + "/mcp/local"));
        assertEquals(pages + 1, client.consentPages, "approving web does not approve local");
        assertTrue(client.lastConsentPage.contains("<strong>local</strong>"), client.lastConsentPage);

        Map<String, String> refused = client.authorize("alice", "alice-password-1", "allow", Map.of("resource", server.url + "/mcp/nope"));
        assertEquals("invalid_target", refused.get("error"), refused.toString());
    }
}
