package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MCP 2026-07-28 on {@code /mcp} over real HTTP, next to the legacy era on the same URL: the era router, the mirrored
 * headers, {@code _meta}, the error codes with the request's id and their HTTP statuses, server/discover, tools/list's
 * cache hints and order, results' resultType and serverInfo, and no stack trace in any answer.
 */
class McpModernEraTest {
    @TempDir
    Path dir;
    McpTestServer s;

    @BeforeEach
    void start() {
        s = new McpTestServer(dir.resolve("data"), Map.of(), settings -> TestTools.all());
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private static void assertError(McpTestServer.Res r, int status, int code, Object id) {
        assertEquals(status, r.status(), r.toString());
        NoStackTraces.assertClean(r);
        JsonNode b = r.json();
        assertEquals("2.0", b.path("jsonrpc").asText(), r.toString());
        assertEquals(code, b.path("error").path("code").asInt(), r.toString());
        assertTrue(b.path("error").path("message").isTextual(), r.toString());
        assertEquals(Json.MAPPER.valueToTree(id), b.get("id"), "the request's id: " + r);
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.toString());
    }

    private static void assertModernResult(McpTestServer.Res r) {
        assertEquals(200, r.status(), r.toString());
        JsonNode result = r.json().path("result");
        assertTrue(result.isObject(), r.toString());
        assertEquals("complete", result.path("resultType").asText(), r.toString());
        assertEquals("mcp-oauth-server", result.path("_meta").path("io.modelcontextprotocol/serverInfo").path("name").asText(), r.toString());
        assertTrue(result.path("_meta").path("io.modelcontextprotocol/serverInfo").path("version").isTextual(), r.toString());
        assertNull(r.header("Mcp-Session-Id"));
    }

    private String body(Object id, String method, ObjectNode params) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("jsonrpc", "2.0");
        m.set("id", Json.MAPPER.valueToTree(id));
        m.put("method", method);
        if (params != null) m.set("params", params);
        return m.toString();
    }

    private static List<String> names(JsonNode tools) {
        List<String> out = new ArrayList<>();
        tools.forEach(t -> out.add(t.path("name").asText()));
        return out;
    }

    @Test
    void discoverListsEveryVersionTheToolsCapabilityAndPublicCacheHints() {
        McpTestServer.Res r = s.modern("alice-token", "d-1", "server/discover", null, null);
        assertModernResult(r);
        JsonNode result = r.json().path("result");
        assertEquals("d-1", r.json().path("id").asText());
        assertEquals(List.of("2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"), Json.MAPPER.convertValue(result.path("supportedVersions"), List.class));
        assertTrue(result.path("capabilities").has("tools"), r.body());
        assertFalse(result.path("capabilities").path("tools").path("listChanged").asBoolean(), "no subscriptions/listen, so no listChanged: " + r.body());
        assertEquals("public", result.path("cacheScope").asText());
        assertTrue(result.path("ttlMs").asLong() > 0, r.body());
        // clientInfo is a SHOULD: a request without it is served.
        ObjectNode noInfo = McpTestServer.modernParams(null, null);
        ((ObjectNode) noInfo.get("_meta")).remove("io.modelcontextprotocol/clientInfo");
        assertModernResult(s.send(s.modernPost("alice-token", "server/discover", null, body(2, "server/discover", noInfo))));
    }

    @Test
    void toolsListIsPrivateWithATtlInRegistrationOrderAndShowsOnlyWhatTheScopesPermit() {
        McpTestServer.Res r = s.modern("alice-token", 1, "tools/list", null, null);
        assertModernResult(r);
        JsonNode result = r.json().path("result");
        assertEquals("private", result.path("cacheScope").asText(), "the list depends on the caller's scopes");
        assertEquals(ModernToolServer.TOOLS_TTL_MS, result.path("ttlMs").asLong());
        assertFalse(result.has("nextCursor"), r.body());
        List<String> expected = s.endpoint.tools().stream().map(McpTool::name).filter(n -> !n.equals("admin_echo")).toList();
        assertEquals(expected, names(result.path("tools")), "registration order, without the tool alice lacks scopes for");
        for (int i = 0; i < 3; i++) assertEquals(expected, names(s.modern("alice-token", 2 + i, "tools/list", null, null).json().path("result").path("tools")));
        JsonNode notesAdd = result.path("tools").path(1);
        assertEquals("notes_add", notesAdd.path("name").asText());
        assertEquals(2000, notesAdd.path("inputSchema").path("properties").path("text").path("maxLength").asInt());
        assertEquals("Add a note", notesAdd.path("annotations").path("title").asText());

        assertTrue(names(s.modern("admin-token", 5, "tools/list", null, null).json().path("result").path("tools")).contains("admin_echo"));
        // A token without the default scope sees only the tool that needs none.
        assertEquals(List.of("thread_probe"), names(s.modern("noscope-token", 6, "tools/list", null, null).json().path("result").path("tools")));
        // One page only: a cursor we never issued is invalid params.
        assertError(s.modern("alice-token", 7, "tools/list", "{\"cursor\":\"abc\"}", null), 400, -32602, 7);
        // Legacy: unchanged, every tool for every authenticated caller, no cache hints.
        JsonNode legacy = s.rpc("noscope-token", "tools/list", "{}", "2025-11-25").json().path("result");
        assertEquals(s.endpoint.tools().stream().map(McpTool::name).toList(), names(legacy.path("tools")));
        assertFalse(legacy.has("cacheScope") || legacy.has("ttlMs") || legacy.has("resultType"), legacy.toString());
    }

    @Test
    void toolsCallNamesTheCallerAndCarriesResultTypeAndServerInfo() {
        McpTestServer.Res r = s.modernCall("alice-token", "whoami", null, null);
        assertModernResult(r);
        assertFalse(r.json().path("result").path("isError").asBoolean(), r.body());
        assertEquals("local:alice", McpTestServer.toolJson(r).path("subject").asText());
        assertEquals("google:1234", McpTestServer.toolJson(s.modernCall("bob-token", "whoami", null, null)).path("subject").asText());
        // Schema validation: bad arguments are a tool error, as in the legacy era.
        McpTestServer.Res bad = s.modernCall("alice-token", "notes_add", "{\"text\":5}", null);
        assertModernResult(bad);
        assertTrue(bad.json().path("result").path("isError").asBoolean(), bad.body());
        // Tools run on the request thread, inside the gate.
        assertTrue(McpTestServer.toolJson(s.modernCall("alice-token", "thread_probe", null, null)).path("inside_filter").asBoolean());
        assertEquals(1L, s.endpoint.toolCallsByTool().get("thread_probe"));
    }

    @Test
    void mirroredHeadersAreCheckedAgainstTheBody() {
        String call = body(11, "tools/call", McpTestServer.modernParams("{\"name\":\"whoami\",\"arguments\":{}}", null));
        assertError(s.send(s.post("alice-token", call).header("MCP-Protocol-Version", "2026-07-28").header("Mcp-Name", "whoami")), 400, -32020, 11);
        assertError(s.send(s.modernPost("alice-token", "tools/list", "whoami", call)), 400, -32020, 11);
        assertError(s.send(s.modernPost("alice-token", "tools/call", null, call)), 400, -32020, 11);
        assertError(s.send(s.modernPost("alice-token", "tools/call", "notes_list", call)), 400, -32020, 11);
        assertError(s.send(s.modernPost("alice-token", "tools/call", "WHOAMI", call)), 400, -32020, 11); // values are case-sensitive
        assertError(s.send(s.modernPost("alice-token", "tools/call", "=?base64?not base64?=", call)), 400, -32020, 11);
        assertError(s.send(s.modernPost("alice-token", "tools/call", "whoami", call).header("Mcp-Name", "whoami")), 400, -32020, 11);
        // The Base64 sentinel is decoded before comparing; header names are case-insensitive.
        String b64 = "=?base64?" + Base64.getEncoder().encodeToString("whoami".getBytes(StandardCharsets.UTF_8)) + "?=";
        assertModernResult(s.send(s.modernPost("alice-token", "tools/call", b64, call)));
        assertModernResult(s.send(s.post("alice-token", call).header("mcp-protocol-version", "2026-07-28").header("MCP-METHOD", "tools/call").header("mcp-name", "whoami")));
        // An unknown Mcp-Param-* header is ignored.
        assertModernResult(s.send(s.modernPost("alice-token", "tools/call", "whoami", call).header("Mcp-Param-Region", "x")));

        // MCP-Protocol-Version must equal the _meta version: missing, different or doubled is a HeaderMismatch.
        String list = body("L", "tools/list", McpTestServer.modernParams(null, null));
        assertError(s.send(s.post("alice-token", list).header("Mcp-Method", "tools/list")), 400, -32020, "L");
        assertError(s.send(s.post("alice-token", list).header("Mcp-Method", "tools/list").header("MCP-Protocol-Version", "2025-11-25")), 400, -32020, "L");
        ObjectNode otherVersion = McpTestServer.modernParams("{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\"}}", null);
        assertError(s.send(s.modernPost("alice-token", "tools/list", null, body(12, "tools/list", otherVersion))), 400, -32020, 12);
    }

    @Test
    void unsupportedVersionsAreRefusedWithTheListOfSupportedOnes() {
        for (String v : List.of("2099-01-01", "v999.0.0", "2025-11-25")) { // a legacy version is not served with modern _meta
            ObjectNode p = McpTestServer.modernParams("{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" + v + "\"}}", null);
            McpTestServer.Res r = s.send(s.post("alice-token", body(21, "server/discover", p)).header("MCP-Protocol-Version", v).header("Mcp-Method", "server/discover"));
            assertError(r, 400, -32022, 21);
            JsonNode data = r.json().path("error").path("data");
            assertEquals(v, data.path("requested").asText());
            assertEquals(ProtocolVersions.SUPPORTED, Json.MAPPER.convertValue(data.path("supported"), List.class));
        }
    }

    @Test
    void missingOrMalformedMetaIsInvalidParams() {
        assertError(s.send(s.modernPost("alice-token", "server/discover", null, "{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"server/discover\"}")), 400, -32602, 31);
        assertError(s.send(s.modernPost("alice-token", "server/discover", null, "{\"jsonrpc\":\"2.0\",\"id\":32,\"method\":\"server/discover\",\"params\":{}}")), 400, -32602, 32);
        for (String drop : List.of("io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientCapabilities")) {
            ObjectNode p = McpTestServer.modernParams(null, null);
            ((ObjectNode) p.get("_meta")).remove(drop);
            assertError(s.send(s.modernPost("alice-token", "server/discover", null, body(33, "server/discover", p))), 400, -32602, 33);
        }
        ObjectNode badInfo = McpTestServer.modernParams(null, null);
        ((ObjectNode) badInfo.get("_meta")).put("io.modelcontextprotocol/clientInfo", "me");
        assertError(s.send(s.modernPost("alice-token", "server/discover", null, body(34, "server/discover", badInfo))), 400, -32602, 34);
    }

    @Test
    void logLevelIsValidatedAndNoLogNotificationIsSent() {
        for (String level : EraRouter.LOG_LEVELS) {
            McpTestServer.Res r = s.modern("alice-token", 41, "tools/call", "{\"name\":\"whoami\",\"arguments\":{},\"_meta\":{\"io.modelcontextprotocol/logLevel\":\"" + level + "\"}}", null);
            assertModernResult(r);
            assertTrue(r.header("Content-Type").startsWith("application/json"), "one JSON answer, no SSE stream of notifications/message: " + r);
        }
        for (String bad : List.of("\"verbose\"", "\"DEBUG\"", "3", "{}")) {
            assertError(s.modern("alice-token", 42, "tools/list", "{\"_meta\":{\"io.modelcontextprotocol/logLevel\":" + bad + "}}", null), 400, -32602, 42);
        }
        ObjectNode discover = s.modern("alice-token", 43, "server/discover", null, null).json().path("result").path("capabilities").deepCopy();
        assertFalse(discover.has("logging"), "we emit no log notifications, so no logging capability: " + discover);
    }

    @Test
    void unknownAndRemovedMethodsAre404MethodNotFoundWithTheId() {
        for (String method : List.of("initialize", "ping", "logging/setLevel", "resources/list", "prompts/list", "resources/subscribe",
                "subscriptions/listen", "no/such/method")) {
            assertError(s.modern("alice-token", "m-" + method, method, null, null), 404, -32601, "m-" + method);
        }
        assertError(s.modernCall("alice-token", "nope", null, null), 400, -32602, 9);
    }

    @Test
    void theEraIsChosenPerMessageOnTheSameEndpoint() {
        // initialize without modern _meta is legacy, even with a modern version header.
        McpTestServer.Res init = s.send(s.post("alice-token", McpSecurityTest.INIT).header("MCP-Protocol-Version", "2026-07-28"));
        assertEquals(200, init.status(), init.toString());
        assertEquals("2025-11-25", init.json().path("result").path("protocolVersion").asText());
        // A modern version header without _meta is modern: refused as a modern server must (not served as legacy).
        assertError(s.send(s.modernPost("alice-token", "tools/list", null, "{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"tools/list\",\"params\":{}}")), 400, -32602, 51);
        // Legacy and modern calls interleave for the same user; each gets its own shape.
        McpTestServer.Res legacy = s.callTool("alice-token", "whoami", null);
        assertFalse(legacy.json().path("result").has("resultType"), legacy.body());
        assertModernResult(s.modernCall("alice-token", "whoami", null, null));
        // Legacy ping still works; modern notifications are accepted (202).
        assertEquals("{}", s.rpc("alice-token", "ping", null, "2025-11-25").json().path("result").toString());
        String note = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":" + McpTestServer.modernParams("{\"requestId\":1}", null) + "}";
        assertEquals(202, s.send(s.post("alice-token", note)).status());
    }

    @Test
    void theGateStillComesFirstForModernRequests() {
        String call = body(61, "tools/call", McpTestServer.modernParams("{\"name\":\"whoami\",\"arguments\":{}}", null));
        McpTestServer.Res noToken = s.send(s.modernPost(null, "tools/call", "whoami", call));
        assertEquals(401, noToken.status());
        assertTrue(noToken.header("WWW-Authenticate").contains("resource_metadata="), noToken.toString());
        McpTestServer.Res scope = s.send(s.modernPost("noscope-token", "tools/call", "whoami", call));
        assertEquals(403, scope.status());
        assertTrue(scope.header("WWW-Authenticate").contains("insufficient_scope"), scope.toString());
        assertEquals(403, s.send(s.modernPost("alice-token", "tools/call", "whoami", call).header("Origin", "http://evil.example.com")).status());
        McpTestServer.Res get = s.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base() + "/mcp")).GET()
                .header("Authorization", "Bearer alice-token").header("MCP-Protocol-Version", "2026-07-28"));
        assertEquals(405, get.status());
        String huge = "{\"jsonrpc\":\"2.0\",\"id\":62,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_add\",\"arguments\":{\"text\":\""
                + "x".repeat(McpEndpoint.MAX_BODY_BYTES) + "\"},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
        McpTestServer.Res big = s.send(s.modernPost("alice-token", "tools/call", "notes_add", huge));
        assertEquals(413, big.status());
        NoStackTraces.assertClean(big);
    }

    @Test
    void noStackTraceLeavesInTheModernEra() {
        McpTestServer.Res boom = s.modernCall("alice-token", "boom", null, null);
        assertModernResult(boom);
        assertTrue(boom.json().path("result").path("isError").asBoolean());
        assertFalse(boom.body().contains("secret-internal-detail"), boom.body());
        NoStackTraces.assertClean(boom);
        for (String params : List.of("{\"name\":\"whoami\",\"arguments\":{},\"requestState\":7}", "{\"name\":\"whoami\",\"inputResponses\":[1]}",
                "{\"name\":\"whoami\",\"requestState\":\"x.y\"}", "{\"name\":\"notes_add\",\"arguments\":{\"text\":[[[[1]]]]}}",
                "{\"_meta\":{\"io.modelcontextprotocol/clientCapabilities\":{\"elicitation\":\"yes\"}},\"name\":\"whoami\"}")) {
            McpTestServer.Res r = s.modern("alice-token", 71, "tools/call", params, null);
            NoStackTraces.assertClean(r);
            assertTrue(r.status() == 200 || r.status() == 400, r.toString());
        }
        NoStackTraces.assertClean(s.send(s.modernPost("alice-token", "tools/call", "whoami", "{not json")));
    }
}
