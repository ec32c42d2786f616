package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading the servers file of a running server (admin API, {@code servers reload}, SIGHUP) with real stdio and HTTP
 * upstreams (server-everything from npm): added servers get their endpoint, metadata and place on /mcp; removed ones
 * answer 404 and their processes stop; a changed one finishes its call in flight on the old process and serves the
 * next on the new one; unchanged ones keep their processes; a file with mistakes changes nothing and is answered with
 * one line per mistake.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayReloadTest {
    static final String ADMIN = "a-very-secret-admin-token-0123456789abcdef";
    static final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static Path file;
    static TestServer server;
    static Process everything;
    static int upstreamPort;

    @BeforeAll
    static void start() throws Exception {
        upstreamPort = TestServer.freePort();
        everything = NpmServers.everythingHttp(upstreamPort);
        file = dir.resolve("mcp-servers.json");
        Files.writeString(file, """
                {"servers": {
                  "keep": %s,
                  "swap": %s,
                  "gone": %s,
                  "web": {"url": "http://127.0.0.1:%d/mcp", "access": {"users": ["bob"]}}
                }}
                """.formatted(stdio("m-keep", "1"), stdio("m-swap-1", "1"), stdio("m-gone", "1"), upstreamPort));
        server = TestServer.start(Files.createDirectories(dir.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString(), "ADMIN_TOKEN", ADMIN));
        io.mcpoauth.OAuthClientSim.addUser(server, "alice", "alice-password-1");
        io.mcpoauth.OAuthClientSim.addUser(server, "bob", "bob-password-12");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) server.close();
        NpmServers.stop(everything);
    }

    /** server-everything over stdio; {@code marker} (ignored by it) tells its process apart, GEN reaches its environment. */
    static String stdio(String marker, String gen) throws Exception {
        return "{\"command\": " + Json.MAPPER.writeValueAsString(NpmServers.node()) + ", \"args\": ["
                + Json.MAPPER.writeValueAsString(NpmServers.everything().toString()) + ", \"stdio\", \"" + marker + "\"], \"env\": {\"GEN\": \"" + gen + "\"}}";
    }

    static String token(String user, String resourcePath) {
        return server.accessToken(user, resourcePath);
    }

    static HttpResponse<String> post(String path, String token, String method, String params) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-11-25").header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\",\"params\":" + params + "}"));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode call(String server, String tool, String args) throws Exception {
        String path = server.isEmpty() ? "/mcp" : "/mcp/" + server;
        HttpResponse<String> r = post(path, token("bob", path), "tools/call", "{\"name\":\"" + tool + "\",\"arguments\":" + args + "}");
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }

    static String text(JsonNode r) {
        return r.path("result").path("content").path(0).path("text").asText();
    }

    static List<String> tools(String path, String user) throws Exception {
        HttpResponse<String> r = post(path, token(user, path), "tools/list", "{}");
        assertEquals(200, r.statusCode(), r.body());
        List<String> out = new ArrayList<>();
        Json.MAPPER.readTree(r.body()).path("result").path("tools").forEach(t -> out.add(t.path("name").asText()));
        return out;
    }

    /** The pids of this JVM's child processes whose arguments carry {@code marker}. */
    static List<Long> pids(String marker) {
        return ProcessHandle.current().descendants().filter(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("not within 20 s: " + what);
            Thread.sleep(50);
        }
    }

    static HttpResponse<String> reload() {
        return server.send(server.request("/admin/api/servers/reload").header("Authorization", "Bearer " + ADMIN).POST(HttpRequest.BodyPublishers.noBody()));
    }

    static List<String> list(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    @Test
    @Order(1)
    void theAdminApiReloadSwapsAddsAndRemovesServersAndKeepsTheUnchanged() throws Exception {
        assertEquals("Echo: k", text(call("keep", "echo", "{\"message\":\"k\"}")));
        assertEquals("Echo: g", text(call("gone", "echo", "{\"message\":\"g\"}")));
        assertEquals("1", Json.MAPPER.readTree(text(call("swap", "get-env", "{}"))).path("GEN").asText());
        await("one process each", () -> pids("m-keep").size() == 1 && pids("m-gone").size() == 1 && pids("m-swap-1").size() == 1);
        long keepPid = pids("m-keep").get(0);
        long gonePid = pids("m-gone").get(0);
        long oldSwapPid = pids("m-swap-1").get(0);
        assertFalse(tools("/mcp", "bob").stream().anyMatch(n -> n.startsWith("fresh_")));
        assertEquals(404, post("/mcp/fresh", token("bob", "/mcp/fresh"), "tools/list", "{}").statusCode());

        // a call in flight on the server about to change
        CompletableFuture<JsonNode> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return call("swap", "trigger-long-running-operation", "{\"duration\":3,\"steps\":3}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(700); // it is under way upstream

        Files.writeString(file, """
                {"servers": {
                  "keep": %s,
                  "swap": %s,
                  "web": {"url": "http://127.0.0.1:%d/mcp", "access": {"users": ["bob", "alice"]}},
                  "fresh": {"url": "http://127.0.0.1:%d/mcp"}
                }}
                """.formatted(stdio("m-keep", "1"), stdio("m-swap-2", "2"), upstreamPort, upstreamPort));
        HttpResponse<String> r = reload();
        assertEquals(200, r.statusCode(), r.body());
        JsonNode done = TestServer.json(r);
        assertEquals(List.of("fresh"), list(done.path("added")), r.body());
        assertEquals(List.of("gone"), list(done.path("removed")), r.body());
        assertEquals(List.of("swap", "web"), list(done.path("changed")), r.body());
        assertEquals(List.of("keep"), list(done.path("unchanged")), r.body());

        JsonNode finished = inFlight.get(20, TimeUnit.SECONDS);
        assertFalse(finished.path("result").path("isError").asBoolean(), "the call in flight finished on the old process: " + finished);
        assertTrue(text(finished).contains("completed"), finished.toString());

        // changed: the next call reaches the new process; the old one stops once idle
        String env = text(call("swap", "get-env", "{}"));
        assertEquals("2", Json.MAPPER.readTree(env).path("GEN").asText(), env);
        await("the old process of swap stops", () -> ProcessHandle.of(oldSwapPid).map(p -> !p.isAlive()).orElse(true));
        // removed: 404 as for an unknown server, its process stopped, its metadata gone
        await("the process of gone stops", () -> ProcessHandle.of(gonePid).map(p -> !p.isAlive()).orElse(true));
        assertEquals(404, post("/mcp/gone", token("bob", "/mcp/gone"), "tools/list", "{}").statusCode());
        assertEquals(404, server.get("/.well-known/oauth-protected-resource/mcp/gone").statusCode());
        // unchanged: the same process
        assertEquals("Echo: k2", text(call("keep", "echo", "{\"message\":\"k2\"}")));
        assertEquals(List.of(keepPid), pids("m-keep"));
        // added: its endpoint, its metadata, its tools on /mcp, tokens for it
        assertEquals("Echo: f", text(call("fresh", "echo", "{\"message\":\"f\"}")));
        HttpResponse<String> meta = server.get("/.well-known/oauth-protected-resource/mcp/fresh");
        assertEquals(200, meta.statusCode(), meta.body());
        assertEquals(server.url + "/mcp/fresh", TestServer.json(meta).path("resource").asText());
        assertTrue(list(TestServer.json(server.get("/.well-known/oauth-authorization-server")).path("protected_resources")).contains(server.url + "/mcp/fresh"));
        assertTrue(server.server.settings.mcpResources().contains(server.url + "/mcp/fresh"));
        List<String> aggregate = tools("/mcp", "bob");
        assertTrue(aggregate.contains("fresh_echo") && aggregate.contains("swap_echo"), aggregate.toString());
        assertFalse(aggregate.stream().anyMatch(n -> n.startsWith("gone_")), aggregate.toString());
        JsonNode goneCall = call("", "gone_echo", "{\"message\":\"x\"}");
        assertTrue(goneCall.has("error") || goneCall.path("result").path("isError").asBoolean(), goneCall.toString());
        // changed access: alice is now let in
        assertTrue(tools("/mcp/web", "alice").contains("echo"));
    }

    @Test
    @Order(2)
    void aFileWithMistakesChangesNothingAndNamesEachMistake() throws Exception {
        String before = Files.readString(file);
        long keepPid = pids("m-keep").get(0);
        Files.writeString(file, """
                {"servers": {
                  "keep": {"url": "ftp://x"},
                  "other": {},
                  "fresh": {"url": "http://127.0.0.1:%d/mcp"}
                }}
                """.formatted(upstreamPort));
        HttpResponse<String> r = reload();
        assertEquals(400, r.statusCode(), r.body());
        JsonNode refused = TestServer.json(r);
        assertEquals(List.of(file + ": servers.keep.url: expected an absolute http or https URL without user information or fragment, e.g. http://127.0.0.1:9000/mcp",
                file + ": servers.other: give either \"url\" (Streamable HTTP) or \"command\" (stdio)"), list(refused.path("problems")), r.body());
        assertTrue(refused.path("error_description").asText().contains("2 mistakes; nothing changed"), r.body());
        assertEquals("Echo: still", text(call("keep", "echo", "{\"message\":\"still\"}")));
        assertEquals(List.of(keepPid), pids("m-keep"));
        assertEquals(Set.of("fresh", "keep", "swap", "web"), server.server.gateway.names());
        // a connection the running server does not have is a mistake too
        Files.writeString(file, before.replace("\"fresh\": {\"url\": \"http://127.0.0.1:" + upstreamPort + "/mcp\"}",
                "\"fresh\": {\"url\": \"http://127.0.0.1:" + upstreamPort + "/mcp\", \"connection\": {\"name\": \"nope\"}}"));
        r = reload();
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(TestServer.json(r).path("error_description").asText().contains("servers.fresh.connection.name: 'nope' is not a configured connection"), r.body());
        assertEquals(401, server.send(server.request("/admin/api/servers/reload").POST(HttpRequest.BodyPublishers.noBody())).statusCode());
        Files.writeString(file, before);
    }

    static String[] cli(String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int rc;
        try {
            rc = new io.mcpoauth.admin.ServersCommand().run(List.of(args).subList(1, args.length), new io.mcpoauth.admin.Cli(new java.io.PrintStream(out, true),
                    new java.io.PrintStream(err, true), java.io.InputStream.nullInputStream(), () -> server.server.settings));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return new String[] {String.valueOf(rc), out.toString(), err.toString()};
    }

    @Test
    @Order(3)
    void theServersReloadCommandAsksTheRunningServer() throws Exception {
        Files.writeString(file, Files.readString(file).replace("\"fresh\": {\"url\"", "\"fresh2\": {\"url\""));
        String[] ok = cli("servers", "reload");
        assertEquals("0", ok[0], ok[1] + ok[2]);
        assertTrue(ok[1].contains("Reloaded the servers file of the running server (pid " + ProcessHandle.current().pid() + ")"), ok[1]);
        assertTrue(ok[1].matches("(?s).*added: +fresh2\n.*removed: +fresh\n.*changed: +-\n.*unchanged: +keep, swap, web\n.*"), ok[1]);
        assertEquals("Echo: c", text(call("fresh2", "echo", "{\"message\":\"c\"}")));
        Files.writeString(file, "{\"servers\": {\"a\": {\"url\": \"ftp://x\"}, \"b\": {\"url\": \"ftp://y\"}}}");
        String[] bad = cli("servers", "reload");
        assertEquals("1", bad[0], bad[1] + bad[2]);
        assertTrue(bad[2].contains("2 mistakes; nothing changed") && bad[2].contains("servers.a.url: expected") && bad[2].contains("servers.b.url: expected"), bad[2]);
        assertEquals(3, bad[2].strip().split("\n").length, "one line each: " + bad[2]);
        assertTrue(server.server.gateway.names().contains("fresh2"));
    }

    @Test
    @Order(4)
    void sighupReloads() throws Exception {
        if (!server.server.reloadOnHangup()) return; // a JVM without sun.misc.Signal: reloads go through the command (logged)
        Files.writeString(file, """
                {"servers": {"keep": %s, "hup": {"url": "http://127.0.0.1:%d/mcp"}}}
                """.formatted(stdio("m-keep", "1"), upstreamPort));
        Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(ProcessHandle.current().pid())).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0);
        await("SIGHUP reloads the file", () -> server.server.gateway.names().equals(Set.of("hup", "keep")));
        assertEquals("Echo: h", text(call("hup", "echo", "{\"message\":\"h\"}")));
        await("the processes of removed servers stop", () -> pids("m-swap-2").isEmpty());
    }

    static int status(String path, String user) throws Exception {
        return post(path, token(user, path), "tools/list", "{}").statusCode();
    }

    @Test
    @Order(5)
    void groupsLetTheirMembersInAndReloadWithTheFile() throws Exception {
        String teamByGroup = """
                {"groups": {"staff": [%s]},
                 "servers": {"team": {"url": "http://127.0.0.1:%d/mcp", "access": {"groups": ["staff"]}}}}
                """;
        Files.writeString(file, teamByGroup.formatted("\"bob\"", upstreamPort));
        HttpResponse<String> r = reload();
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("Echo: in", text(call("team", "echo", "{\"message\":\"in\"}")), "bob is in the group");
        HttpResponse<String> alice = post("/mcp/team", token("alice", "/mcp/team"), "tools/list", "{}");
        assertEquals(403, alice.statusCode(), "alice is not: refused as access.users refuses, " + alice.body());
        Files.writeString(file, "{\"servers\": {\"team\": {\"url\": \"http://127.0.0.1:" + upstreamPort + "/mcp\", \"access\": {\"users\": [\"bob\"]}}}}");
        assertEquals(200, reload().statusCode());
        HttpResponse<String> byUsers = post("/mcp/team", token("alice", "/mcp/team"), "tools/list", "{}");
        assertEquals(alice.statusCode(), byUsers.statusCode());
        assertEquals(alice.headers().firstValue("WWW-Authenticate"), byUsers.headers().firstValue("WWW-Authenticate"));
        assertEquals(alice.body(), byUsers.body());
        // the group changes with the file: now alice is in and bob out, also at /mcp
        Files.writeString(file, teamByGroup.formatted("\"alice\", \"carol@example.com\"", upstreamPort));
        assertEquals(List.of("team"), list(TestServer.json(reload()).path("changed")));
        assertEquals(200, status("/mcp/team", "alice"));
        assertEquals(403, status("/mcp/team", "bob"));
        assertTrue(tools("/mcp", "alice").contains("team_echo"));
        assertFalse(tools("/mcp", "bob").contains("team_echo"));
        // an unknown or empty group is refused with its line, and nothing changes
        Files.writeString(file, "{\"groups\": {\"staff\": []}, \"servers\": {\"team\": {\"url\": \"http://127.0.0.1:" + upstreamPort
                + "/mcp\", \"access\": {\"groups\": [\"staff\"]}}, \"other\": {\"url\": \"http://127.0.0.1:" + upstreamPort
                + "/mcp\", \"access\": {\"groups\": [\"nobody\"]}}}}");
        r = reload();
        assertEquals(400, r.statusCode(), r.body());
        assertEquals(List.of(file + ": groups.staff: lists nobody; give its members (usernames or e-mail addresses) or remove it",
                file + ": servers.other.access.groups: 'nobody' is not a group of \"groups\" (there are none)"), list(TestServer.json(r).path("problems")));
        assertEquals(200, status("/mcp/team", "alice"));
    }
}
