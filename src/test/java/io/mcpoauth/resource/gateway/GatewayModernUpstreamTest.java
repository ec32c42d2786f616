package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.AccessToken;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * The gateway in front of a 2026-07-28 server (a second instance of this server, reached with a bearer token in the
 * entry's static headers): it is spoken to in that era (stateless, no initialize), and its InputRequiredResults reach
 * modern clients as such and legacy clients as relayed elicitations.
 */
class GatewayModernUpstreamTest {
    @TempDir
    static Path dir;
    static TestServer upstream;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestServer.start(Files.createDirectories(dir.resolve("upstream")), Map.of());
        OAuthClientSim.addUser(upstream, "svc", "service-password-1");
        Instant now = Instant.now();
        String resource = upstream.url + "/mcp";
        var issued = upstream.server.refreshTokens.create("test-client", "local:svc", "mcp", resource, false, now);
        String upstreamToken = upstream.server.accessTokens.issue(new AccessToken("test-client", "local:svc", Set.of("mcp"), resource,
                issued.family().familyId(), now.plusSeconds(3600)), now);
        String servers = """
                {"servers": {"own": {"url": %s, "timeout_seconds": 20, "headers": {"Authorization": %s}}}}
                """.formatted(Json.MAPPER.writeValueAsString(resource), Json.MAPPER.writeValueAsString("Bearer " + upstreamToken));
        Path file = dir.resolve("mcp-servers.json");
        Files.writeString(file, servers);
        GatewayRelayTest.server = server = TestServer.start(Files.createDirectories(dir.resolve("gateway")), Map.of("MCP_SERVERS_FILE", file.toString()));
        OAuthClientSim.addUser(server, "alice", "alice-password-1");
        OAuthClientSim.addUser(server, "bob", "bob-password-12");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (upstream != null) upstream.close();
    }

    static String token(String user, String path) {
        return GatewayRelayTest.token(user, path);
    }

    static List<String> names(JsonNode listResult) {
        List<String> out = new ArrayList<>();
        listResult.path("tools").forEach(t -> out.add(t.path("name").asText()));
        return out;
    }

    static void addNote(String path, String token, String tool) throws Exception {
        HttpResponse<String> r = GatewayRelayTest.post(path, token,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{\"text\":\"a note\"}}}");
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(r.body().contains("\"isError\":true"), r.body());
    }

    @Test
    void theUpstreamIsSpokenToInTheModernEra() throws Exception {
        Gateway.Check check = server.server.gateway.check("own");
        assertEquals("2026-07-28", check.protocolVersion(), check.toString());
        assertTrue(check.tools() >= 3 && check.error() == null, check.toString());
        HttpResponse<String> legacyList = GatewayRelayTest.post("/mcp/own", token("alice", "/mcp/own"), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
        assertEquals(200, legacyList.statusCode(), legacyList.body());
        assertTrue(names(Json.MAPPER.readTree(legacyList.body()).path("result")).contains("whoami"), legacyList.body());
        HttpResponse<String> modernWho = GatewayRelayTest.modern("/mcp/own", token("alice", "/mcp/own"), "whoami", "", "{}");
        assertEquals(200, modernWho.statusCode(), modernWho.body());
        JsonNode result = Json.MAPPER.readTree(modernWho.body()).path("result");
        assertEquals("complete", result.path("resultType").asText(), modernWho.body());
        assertTrue(GatewayRelayTest.texts(result).contains("svc"), "the upstream sees the gateway's credential: " + modernWho.body());
        HttpResponse<String> aggregate = GatewayRelayTest.post("/mcp", token("alice", "/mcp"),
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"own_whoami\",\"arguments\":{}}}");
        assertTrue(aggregate.body().contains("svc") && !aggregate.body().contains("resultType"), "a legacy result has no resultType: " + aggregate.body());
    }

    @Test
    void aModernClientAnswersTheUpstreamsInputRequest() throws Exception {
        String alice = token("alice", "/mcp/own");
        addNote("/mcp/own", alice, "notes_add");
        HttpResponse<String> first = GatewayRelayTest.modern("/mcp/own", alice, "notes_clear", "", GatewayRelayTest.ELICIT);
        JsonNode asked = Json.MAPPER.readTree(first.body()).path("result");
        assertEquals("input_required", asked.path("resultType").asText(), first.body());
        JsonNode q = asked.path("inputRequests").path("confirm");
        assertEquals("elicitation/create", q.path("method").asText(), first.body());
        String state = asked.path("requestState").asText();
        assertTrue(state.startsWith("up1."), "the upstream's requestState, bound to the user: " + first.body());
        String retry = ",\"requestState\":" + Json.MAPPER.writeValueAsString(state) + ",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}}";
        HttpResponse<String> stranger = GatewayRelayTest.modern("/mcp/own", token("bob", "/mcp/own"), "notes_clear", retry, GatewayRelayTest.ELICIT);
        assertEquals(400, stranger.statusCode(), stranger.body());
        HttpResponse<String> done = GatewayRelayTest.modern("/mcp/own", alice, "notes_clear", retry, GatewayRelayTest.ELICIT);
        JsonNode result = Json.MAPPER.readTree(done.body()).path("result");
        assertEquals("complete", result.path("resultType").asText(), done.body());
        assertTrue(GatewayRelayTest.texts(result).contains("deleted"), done.body());

        addNote("/mcp/own", alice, "notes_add");
        HttpResponse<String> unable = GatewayRelayTest.modern("/mcp/own", alice, "notes_clear", "", "{}");
        JsonNode refused = Json.MAPPER.readTree(unable.body()).path("result");
        assertEquals("complete", refused.path("resultType").asText(), "no input request the client did not declare: " + unable.body());
        assertTrue(refused.path("isError").asBoolean(false) && GatewayRelayTest.texts(refused).contains("elicitation"), unable.body());
    }

    @Test
    void aLegacyClientAnswersTheUpstreamsInputRequestAsAnElicitation() throws Exception {
        String alice = token("alice", "/mcp/own");
        addNote("/mcp/own", alice, "notes_add");
        try (GatewayRelayTest.Call call = new GatewayRelayTest.Call("/mcp/own", alice, "notes_clear")) {
            JsonNode asked = call.next();
            assertEquals("elicitation/create", asked.path("method").asText(), String.valueOf(asked));
            assertTrue(asked.path("id").asText().startsWith("gw-"), asked.toString());
            HttpResponse<String> answered = GatewayRelayTest.post("/mcp/own", alice,
                    GatewayRelayTest.response(asked.get("id"), "{\"action\":\"accept\",\"content\":{\"confirm\":true}}"));
            assertEquals(202, answered.statusCode(), answered.body());
            JsonNode last = call.next();
            assertEquals(7, last.path("id").asInt(), last.toString());
            assertFalse(last.path("result").path("isError").asBoolean(false), last.toString());
            assertTrue(GatewayRelayTest.texts(last.path("result")).contains("deleted"), last.toString());
        }
    }
}
