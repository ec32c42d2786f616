package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.AccessToken;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream's own requests to the client during a tool call (elicitation/create of server-everything, over
 * Streamable HTTP and stdio) reach a legacy client on the call's SSE answer under an id of the gateway, and the
 * client's response, POSTed to the gateway, reaches the upstream: only from the same user, only once.
 */
class GatewayRelayTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static Process everything;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        int port = TestServer.freePort();
        everything = NpmServers.everythingHttp(port);
        String node = Json.MAPPER.writeValueAsString(NpmServers.node());
        String js = Json.MAPPER.writeValueAsString(NpmServers.everything().toString());
        String servers = """
                {"servers": {
                  "web": {"url": "http://127.0.0.1:%d/mcp", "timeout_seconds": 30},
                  "local": {"command": %s, "args": [%s, "stdio"], "timeout_seconds": 30}
                }}
                """.formatted(port, node, js);
        Path file = dir.resolve("mcp-servers.json");
        Files.writeString(file, servers);
        server = TestServer.start(Files.createDirectories(dir.resolve("data")), Map.of("MCP_SERVERS_FILE", file.toString()));
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

    static HttpRequest.Builder request(String path, String token, String body) {
        return HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-11-25").header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    static HttpResponse<String> post(String path, String token, String body) throws Exception {
        return http.send(request(path, token, body).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A tools/call whose SSE answer is read message by message. */
    static final class Call implements AutoCloseable {
        final HttpResponse<java.io.InputStream> response;
        final BufferedReader in;

        Call(String path, String token, String tool) throws Exception {
            String body = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}}}";
            response = http.send(request(path, token, body).build(), HttpResponse.BodyHandlers.ofInputStream());
            in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        }

        /** The next JSON-RPC message of the stream, or null at its end. */
        JsonNode next() throws Exception {
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty() && data.length() > 0) return Json.MAPPER.readTree(data.toString());
                if (line.startsWith("data:")) data.append(line.substring(5).trim());
            }
            return data.length() > 0 ? Json.MAPPER.readTree(data.toString()) : null;
        }

        @Override
        public void close() throws Exception {
            in.close();
        }
    }

    static final String ACCEPT = "{\"action\":\"accept\",\"content\":{\"name\":\"Ada Lovelace\",\"check\":true}}";

    static String response(JsonNode id, String result) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + result + "}";
    }

    /** Runs the elicitation tool through {@code path} and answers it; the final tool result. */
    static JsonNode elicitThrough(String path, String tool) throws Exception {
        String alice = token("alice", path);
        try (Call call = new Call(path, alice, tool)) {
            assertEquals(200, call.response.statusCode());
            assertEquals("text/event-stream", call.response.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            JsonNode asked = call.next();
            assertNotNull(asked);
            assertEquals("elicitation/create", asked.path("method").asText(), asked.toString());
            assertTrue(asked.path("id").asText().startsWith("gw-") && asked.path("id").asText().length() > 20,
                    "the gateway's own unguessable id, never the upstream's: " + asked);
            assertTrue(asked.path("params").path("requestedSchema").path("properties").has("name"), asked.toString());

            // another user cannot answer it; an id nobody sent is refused with a sentence
            HttpResponse<String> stranger = post(path, token("bob", path), response(asked.get("id"), "{\"action\":\"decline\"}"));
            assertEquals(400, stranger.statusCode(), stranger.body());
            assertTrue(stranger.body().contains("No request is waiting"), stranger.body());
            HttpResponse<String> unknown = post(path, alice, response(Json.MAPPER.valueToTree("gw-nothing-like-this"), ACCEPT));
            assertEquals(400, unknown.statusCode(), unknown.body());
            assertEquals(-32600, Json.MAPPER.readTree(unknown.body()).path("error").path("code").asInt(), unknown.body());

            HttpResponse<String> answered = post(path, alice, response(asked.get("id"), ACCEPT));
            assertEquals(202, answered.statusCode(), answered.body());
            HttpResponse<String> again = post(path, alice, response(asked.get("id"), ACCEPT));
            assertEquals(400, again.statusCode(), "a response is delivered once: " + again.body());

            JsonNode last = call.next();
            assertNotNull(last);
            assertEquals(7, last.path("id").asInt(), last.toString());
            return last.path("result");
        }
    }

    static String texts(JsonNode result) {
        StringBuilder b = new StringBuilder();
        result.path("content").forEach(c -> b.append(c.path("text").asText()).append('\n'));
        return b.toString();
    }

    @Test
    void aLegacyClientAnswersTheHttpUpstreamsElicitation() throws Exception {
        JsonNode result = elicitThrough("/mcp/web", "trigger-elicitation-request");
        assertFalse(result.path("isError").asBoolean(false), result.toString());
        assertTrue(texts(result).contains("Ada Lovelace"), "the upstream got the client's answer: " + result);
    }

    @Test
    void aLegacyClientAnswersTheStdioUpstreamsElicitation() throws Exception {
        JsonNode result = elicitThrough("/mcp/local", "trigger-elicitation-request");
        assertFalse(result.path("isError").asBoolean(false), result.toString());
        assertTrue(texts(result).contains("Ada Lovelace"), "the upstream got the client's answer: " + result);
    }

    @Test
    void theAggregateEndpointRelaysToo() throws Exception {
        JsonNode result = elicitThrough("/mcp", "web_trigger-elicitation-request");
        assertTrue(texts(result).contains("Ada Lovelace"), result.toString());
    }

    @Test
    void aDeclinedElicitationAndAClientErrorReachTheUpstream() throws Exception {
        String alice = token("alice", "/mcp/web");
        try (Call call = new Call("/mcp/web", alice, "trigger-elicitation-request")) {
            JsonNode asked = call.next();
            assertEquals("elicitation/create", asked.path("method").asText(), String.valueOf(asked));
            HttpResponse<String> declined = post("/mcp/web", alice, response(asked.get("id"), "{\"action\":\"decline\"}"));
            assertEquals(202, declined.statusCode(), declined.body());
            JsonNode last = call.next();
            assertTrue(texts(last.path("result")).toLowerCase().contains("decline"), last.toString());
        }
        try (Call call = new Call("/mcp/local", token("alice", "/mcp/local"), "trigger-elicitation-request")) {
            JsonNode asked = call.next();
            String error = "{\"jsonrpc\":\"2.0\",\"id\":" + asked.get("id") + ",\"error\":{\"code\":-32601,\"message\":\"this client does not do elicitation\"}}";
            HttpResponse<String> refused = post("/mcp/local", token("alice", "/mcp/local"), error);
            assertEquals(202, refused.statusCode(), refused.body());
            JsonNode last = call.next();
            String all = last.toString();
            assertTrue(last.has("error") || last.path("result").path("isError").asBoolean(false), "the client's error ends the upstream call: " + all);
        }
    }

    @Test
    void aCallWithoutRequestsIsStillPlainJson() throws Exception {
        HttpResponse<String> r = post("/mcp/web", token("alice", "/mcp/web"),
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"plain\"}}}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        assertTrue(r.body().contains("Echo: plain"), r.body());
    }

    @Test
    void malformedResponsesAreRefusedWithASentence() throws Exception {
        String t = token("alice", "/mcp/web");
        HttpResponse<String> both = post("/mcp/web", t, "{\"jsonrpc\":\"2.0\",\"id\":\"gw-x\",\"result\":{},\"error\":{\"code\":1,\"message\":\"x\"}}");
        assertEquals(400, both.statusCode(), both.body());
        assertTrue(both.body().contains("not both"), both.body());
        HttpResponse<String> noId = post("/mcp/web", t, "{\"jsonrpc\":\"2.0\",\"result\":{}}");
        assertEquals(400, noId.statusCode(), noId.body());
        assertTrue(noId.body().contains("\\\"id\\\"") || noId.body().contains("id"), noId.body());
        HttpResponse<String> none = post("/mcp/web", t, "{\"jsonrpc\":\"2.0\",\"id\":1}");
        assertEquals(400, none.statusCode(), none.body());
    }

    static HttpResponse<String> modern(String path, String token, String tool, String extra, String caps) throws Exception {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":\"m1\",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}" + extra
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":" + caps + ","
                + "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
        HttpRequest r = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2026-07-28").header("Mcp-Method", "tools/call").header("Mcp-Name", tool)
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    static final String ELICIT = "{\"elicitation\":{\"form\":{}}}";

    @Test
    void aModernClientAnswersTheElicitationByRetrying() throws Exception {
        for (String path : List.of("/mcp/web", "/mcp/local")) {
            String alice = token("alice", path);
            HttpResponse<String> first = modern(path, alice, "trigger-elicitation-request", "", ELICIT);
            assertEquals(200, first.statusCode(), first.body());
            JsonNode asked = Json.MAPPER.readTree(first.body()).path("result");
            assertEquals("input_required", asked.path("resultType").asText(), first.body());
            JsonNode q = asked.path("inputRequests").path("upstream");
            assertEquals("elicitation/create", q.path("method").asText(), first.body());
            assertEquals("form", q.path("params").path("mode").asText(), first.body());
            assertTrue(q.path("params").path("requestedSchema").path("properties").has("name"), first.body());
            String state = asked.path("requestState").asText();
            assertTrue(state.startsWith("gw1."), first.body());
            String retry = ",\"requestState\":" + Json.MAPPER.writeValueAsString(state) + ",\"inputResponses\":{\"upstream\":" + ACCEPT + "}";

            HttpResponse<String> stranger = modern(path, token("bob", path), "trigger-elicitation-request", retry, ELICIT);
            assertEquals(400, stranger.statusCode(), "another user's retry is refused: " + stranger.body());
            assertEquals(-32602, Json.MAPPER.readTree(stranger.body()).path("error").path("code").asInt(), stranger.body());
            String forged = retry.replace(state, state.substring(0, state.length() - 4) + "AAAA");
            assertEquals(400, modern(path, alice, "trigger-elicitation-request", forged, ELICIT).statusCode(), "a forged requestState is refused");

            HttpResponse<String> done = modern(path, alice, "trigger-elicitation-request", retry, ELICIT);
            assertEquals(200, done.statusCode(), done.body());
            JsonNode result = Json.MAPPER.readTree(done.body()).path("result");
            assertEquals("complete", result.path("resultType").asText(), done.body());
            assertTrue(texts(result).contains("Ada Lovelace"), path + ": the upstream got the answer: " + done.body());
            HttpResponse<String> replay = modern(path, alice, "trigger-elicitation-request", retry, ELICIT);
            assertEquals(400, replay.statusCode(), "a round ends with its call: " + replay.body());
        }
    }

    @Test
    void aModernClientThatAsksForProgressGetsItOnTheAnswersStream() throws Exception {
        for (String path : List.of("/mcp/web", "/mcp/local")) {
            String tool = "trigger-long-running-operation";
            String body = "{\"jsonrpc\":\"2.0\",\"id\":\"m2\",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                    + "\",\"arguments\":{\"duration\":1,\"steps\":2},\"_meta\":{\"progressToken\":\"mp-9\",\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                    + "\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"junit\",\"version\":\"1\"}}}}";
            HttpRequest r = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(40))
                    .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .header("MCP-Protocol-Version", "2026-07-28").header("Mcp-Method", "tools/call").header("Mcp-Name", tool)
                    .header("Authorization", "Bearer " + token("alice", path)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> res = http.send(r, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            assertEquals("text/event-stream", res.headers().firstValue("Content-Type").orElse("").split(";")[0], res.body());
            assertEquals("no", res.headers().firstValue("X-Accel-Buffering").orElse(""));
            List<JsonNode> events = new ArrayList<>();
            for (String event : res.body().split("\n\n")) {
                for (String line : event.split("\n")) if (line.startsWith("data: ")) events.add(Json.MAPPER.readTree(line.substring(6)));
            }
            List<JsonNode> progress = events.stream().filter(e -> "notifications/progress".equals(e.path("method").asText())).toList();
            assertFalse(progress.isEmpty(), path + ": " + res.body());
            assertTrue(progress.stream().allMatch(p -> "mp-9".equals(p.path("params").path("progressToken").asText())), res.body());
            JsonNode last = events.get(events.size() - 1);
            assertEquals("m2", last.path("id").asText(), res.body());
            assertEquals("complete", last.path("result").path("resultType").asText(), res.body());
        }
    }

    @Test
    void aModernClientWithoutElicitationIsNotAsked() throws Exception {
        HttpResponse<String> r = modern("/mcp/web", token("alice", "/mcp/web"), "trigger-elicitation-request", "", "{}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode result = Json.MAPPER.readTree(r.body()).path("result");
        assertFalse("input_required".equals(result.path("resultType").asText()), r.body());
        assertTrue(Json.MAPPER.readTree(r.body()).has("error") || result.path("isError").asBoolean(false), "the upstream learns the client cannot answer: " + r.body());
        HttpResponse<String> echo = modern("/mcp/web", token("alice", "/mcp/web"), "echo", "", "{}");
        assertTrue(echo.body().contains("\"resultType\":\"complete\""), echo.body());
    }

    @Test
    void theRelayIsBoundedPerUserAndInAll() {
        Relays relays = new Relays();
        List<String> ids = new ArrayList<>();
        List<JsonNode> delivered = new ArrayList<>();
        for (int i = 0; i < Relays.MAX_PER_USER; i++) ids.add(relays.register("alice", delivered::add, TimeUnit.SECONDS.toNanos(30)));
        assertNull(relays.register("alice", delivered::add, TimeUnit.SECONDS.toNanos(30)), "one user's cap");
        String bobs = relays.register("bob", delivered::add, TimeUnit.SECONDS.toNanos(30));
        assertNotNull(bobs, "another user is not held up by alice's");
        assertFalse(relays.deliver("alice", Json.MAPPER.valueToTree(bobs), Json.MAPPER.createObjectNode()), "never to another user's request");
        assertTrue(relays.deliver("bob", Json.MAPPER.valueToTree(bobs), Json.MAPPER.createObjectNode()));
        assertEquals(1, delivered.size());
        relays.forget(ids.get(0));
        assertNotNull(relays.register("alice", delivered::add, TimeUnit.SECONDS.toNanos(30)), "a forgotten request frees its place");
        String expired = relays.register("bob", delivered::add, 0);
        assertFalse(relays.deliver("bob", Json.MAPPER.valueToTree(expired), Json.MAPPER.createObjectNode()), "past its deadline");
        assertEquals(1, delivered.size());
    }

    @Test
    void aResponseNobodyWaitsForIsRefusedOnTheAggregateEndpoint() throws Exception {
        HttpResponse<String> r = post("/mcp", token("alice", "/mcp"), response(Json.MAPPER.valueToTree("gw-unknown"), ACCEPT));
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains("No request is waiting"), r.body());
    }
}
