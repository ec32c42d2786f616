package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Origin's scheme counts; JSON-RPC errors carry the request's id. */
class McpHardeningTest {
    static final String INIT = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
            + "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    @TempDir
    Path dir;

    @Test
    void anOriginWithAnotherSchemeOnTheSameHostAndPortIsRefused() {
        try (McpTestServer s = new McpTestServer(dir)) {
            assertEquals(200, s.send(s.post("alice-token", INIT).header("Origin", "http://localhost:" + s.port)).status());
            for (String other : List.of("https://localhost:" + s.port, "https://127.0.0.1:" + s.port, "https://[::1]:" + s.port)) {
                McpTestServer.Res r = s.send(s.post("alice-token", INIT).header("Origin", other));
                assertEquals(403, r.status(), other + " " + r);
            }
        }
        try (McpTestServer s = new McpTestServer(dir.resolve("tls"), Map.of("PUBLIC_URL", "https://mcp.example.test"), x -> List.of())) {
            McpTestServer.Res ok = s.raw("POST", "/mcp", List.of("Host: mcp.example.test", "Origin: https://mcp.example.test",
                    "Content-Type: application/json", "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer alice-token"), INIT);
            assertEquals(200, ok.status(), ok.toString());
            McpTestServer.Res plain = s.raw("POST", "/mcp", List.of("Host: mcp.example.test", "Origin: http://mcp.example.test:443",
                    "Content-Type: application/json", "Accept: " + McpTestServer.ACCEPT, "Authorization: Bearer alice-token"), INIT);
            assertEquals(403, plain.status(), "an http page on port 443 is not the https origin: " + plain);
        }
    }

    @Test
    void aJsonRpcErrorForARequestWhoseIdCouldBeReadCarriesThatId() {
        try (McpTestServer s = new McpTestServer(dir)) {
            McpTestServer.Res r = s.rpc("alice-token", "tools/list", null, "1999-01-01");
            assertEquals(400, r.status(), r.toString());
            JsonNode body = r.json();
            assertEquals(7, body.path("id").asInt(-1), "a rejected MCP-Protocol-Version answered " + body);
            assertEquals(-32022, body.path("error").path("code").asInt());
            assertTrue(body.path("error").path("message").asText().toLowerCase().contains("protocol version"), body.toString());

            McpTestServer.Res s2 = s.send(s.post("alice-token", "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"tools/call\",\"params\":{}}")
                    .header("MCP-Protocol-Version", "2025-11-25"));
            assertEquals(400, s2.status());
            assertEquals("abc", s2.json().path("id").asText(), s2.toString());

            // no id to read: null, as JSON-RPC says
            McpTestServer.Res garbage = s.send(s.post("alice-token", "{not json").header("MCP-Protocol-Version", "1999-01-01"));
            assertEquals(400, garbage.status());
            assertTrue(garbage.json().get("id").isNull(), garbage.toString());
            McpTestServer.Res badId = s.send(s.post("alice-token", "{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"tools/list\"}"));
            assertEquals(400, badId.status());
            assertTrue(badId.json().get("id").isNull(), "an id of the wrong type is not echoed: " + badId);
        }
    }
}
