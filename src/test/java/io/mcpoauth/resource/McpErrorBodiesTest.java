package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No Java stack trace (or other internals) ever leaves in a body, whatever is sent. */
class McpErrorBodiesTest {
    @TempDir
    Path dir;
    McpTestServer s;

    @BeforeEach
    void start() {
        s = new McpTestServer(dir.resolve("data"));
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private McpTestServer.Res post(String body) {
        return s.send(s.post("alice-token", body));
    }

    private static void assertJsonRpcError(McpTestServer.Res r, int status) {
        assertEquals(status, r.status(), r.toString());
        NoStackTraces.assertClean(r);
        JsonNode b = r.json();
        assertEquals("2.0", b.path("jsonrpc").asText(), r.toString());
        assertTrue(b.path("error").path("code").isInt(), r.toString());
        assertTrue(b.path("error").path("message").isTextual(), r.toString());
    }

    @Test
    void malformedJson() {
        for (String body : List.of("{not json", "", "   ", "null", "42", "\"x\"", "{\"jsonrpc\":\"2.0\"", "{\"jsonrpc\":\"2.0\",\"id\":1}",
                "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", "\u0000\u0001", "{\"id\":1,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":7,\"capabilities\":\"x\"}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":7}}",
                "{\"a\":1,\"a\":2}")) {
            McpTestServer.Res r = post(body);
            assertTrue(r.status() == 400 || r.status() == 200, body + " " + r);
            NoStackTraces.assertClean(r);
        }
        McpTestServer.Res parse = post("{not json");
        assertJsonRpcError(parse, 400);
        assertEquals(-32700, parse.json().path("error").path("code").asInt());
    }

    @Test
    void batchesAreRefused() {
        assertJsonRpcError(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}]"), 400);
        assertJsonRpcError(post("[]"), 400);
        // A batch hiding a tool call is refused as a batch, never run.
        assertJsonRpcError(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_add\",\"arguments\":{\"text\":\"x\"}}}]"), 400);
        assertEquals(0, s.notes.count("local:alice"));
    }

    @Test
    void unsupportedMediaType() {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/jsonp")) {
            McpTestServer.Res r = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", type).header("Accept", McpTestServer.ACCEPT).header("Authorization", "Bearer alice-token")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")));
            assertJsonRpcError(r, 415);
        }
        McpTestServer.Res noType = s.raw("POST", "/mcp", List.of("Host: localhost:" + s.port, "Accept: " + McpTestServer.ACCEPT,
                "Authorization: Bearer alice-token"), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
        assertJsonRpcError(noType, 415);
    }

    @Test
    void wrongAcceptHeader() {
        McpTestServer.Res r = s.send(s.post("alice-token", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}").setHeader("Accept", "text/html"));
        assertJsonRpcError(r, 400);
    }

    @Test
    void unknownMethodAndBadParams() {
        McpTestServer.Res unknown = post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such/method\"}");
        assertJsonRpcError(unknown, 200);
        assertEquals(-32601, unknown.json().path("error").path("code").asInt(), unknown.toString());
        assertEquals(1, unknown.json().path("id").asInt());

        McpTestServer.Res badParams = post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":\"nonsense\"}");
        assertJsonRpcError(badParams, 400);
        assertEquals(-32600, badParams.json().path("error").path("code").asInt());

        McpTestServer.Res unknownTool = post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}");
        assertTrue(unknownTool.status() == 200, unknownTool.toString());
        NoStackTraces.assertClean(unknownTool);
        assertTrue(unknownTool.json().has("error"), unknownTool.toString());

        McpTestServer.Res argsNotObject = post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"notes_add\",\"arguments\":[1,2]}}");
        NoStackTraces.assertClean(argsNotObject);

        McpTestServer.Res unknownNotification = post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}");
        assertEquals(202, unknownNotification.status(), unknownNotification.toString());
    }

    @Test
    void hugeBodiesAre413() {
        String huge = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + "x".repeat(McpEndpoint.MAX_BODY_BYTES) + "\"}}";
        McpTestServer.Res declared = post(huge);
        assertEquals(413, declared.status(), declared.status() + " " + declared.headers());
        NoStackTraces.assertClean(declared);

        // Chunked (no Content-Length): the filter counts while reading.
        McpTestServer.Res chunked = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/mcp")).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").header("Accept", McpTestServer.ACCEPT).header("Authorization", "Bearer alice-token")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge.getBytes()))));
        assertEquals(413, chunked.status(), chunked.status() + " " + chunked.headers());
        NoStackTraces.assertClean(chunked);
    }

    @Test
    void deepNestingAndLongStrings() {
        String deep = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{\"a\":"
                + "[".repeat(5000) + "]".repeat(5000) + "}}}";
        McpTestServer.Res r = post(deep);
        assertEquals(400, r.status(), r.toString());
        NoStackTraces.assertClean(r);
    }

    @Test
    void theSafeMapperNeverWritesAThrowable() throws Exception {
        SafeJsonMapper m = new SafeJsonMapper();
        String e = m.writeValueAsString(McpError.builder(McpSchema.ErrorCodes.INVALID_REQUEST).message("Invalid message format").build());
        assertEquals("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid message format\"}}", e);
        String internal = m.writeValueAsString(McpError.builder(McpSchema.ErrorCodes.INTERNAL_ERROR).message("Failed: java.lang.NullPointerException at x").build());
        assertFalse(internal.contains("NullPointer"), internal);
        String plain = new String(m.writeValueAsBytes(new IllegalStateException("secret")));
        assertFalse(plain.contains("secret") || plain.contains("stackTrace"), plain);
        String rpc = m.writeValueAsString(new McpSchema.JSONRPCResponse("2.0", 5, null,
                new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INTERNAL_ERROR, "Cannot construct instance of `io.x.Y`", null)));
        assertEquals("{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32603,\"message\":\"Internal error\"}}", rpc);
        // Ordinary values pass through untouched (and without nulls).
        assertEquals("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", m.writeValueAsString(new McpSchema.JSONRPCResponse("2.0", 1, Map.of(), null)));
    }
}
