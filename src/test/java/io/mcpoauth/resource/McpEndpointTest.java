package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.tools.BuiltInTools;
import io.mcpoauth.resource.tools.Notes;
import io.mcpoauth.resource.tools.WhoamiTool;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The MCP protocol through the real SDK servlet: initialize, version negotiation, tools, who is calling. */
class McpEndpointTest {
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

    @Test
    void initializeThenListThenWhoamiNamesTheCaller() {
        McpTestServer.Res init = s.initialize("alice-token", "2025-11-25");
        assertEquals(200, init.status(), init.toString());
        JsonNode result = init.json().path("result");
        assertEquals("2025-11-25", result.path("protocolVersion").asText());
        assertEquals("mcp-oauth-server", result.path("serverInfo").path("name").asText());
        assertTrue(result.path("capabilities").has("tools"), init.body());
        assertTrue(init.header("Mcp-Session-Id").startsWith("mcs1."), "a session whose id carries what the server needs: " + init);

        McpTestServer.Res initialized = s.send(s.post("alice-token", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")
                .header("MCP-Protocol-Version", "2025-11-25"));
        assertEquals(202, initialized.status(), initialized.toString());

        McpTestServer.Res list = s.rpc("alice-token", "tools/list", "{}", "2025-11-25");
        assertEquals(200, list.status(), list.toString());
        List<String> names = new ArrayList<>();
        list.json().path("result").path("tools").forEach(t -> names.add(t.path("name").asText()));
        assertTrue(names.containsAll(List.of("whoami", "notes_add", "notes_list")), names.toString());
        JsonNode notesAdd = find(list.json().path("result").path("tools"), "notes_add");
        assertEquals("object", notesAdd.path("inputSchema").path("type").asText());
        assertEquals(2000, notesAdd.path("inputSchema").path("properties").path("text").path("maxLength").asInt());
        assertEquals("text", notesAdd.path("inputSchema").path("required").path(0).asText());

        McpTestServer.Res who = s.callTool("alice-token", "whoami", null);
        assertEquals(200, who.status(), who.toString());
        assertFalse(who.json().path("result").path("isError").asBoolean(), who.body());
        JsonNode me = McpTestServer.toolJson(who);
        assertEquals("local:alice", me.path("subject").asText());
        assertEquals("alice", me.path("username").asText());
        assertEquals("local", me.path("provider").asText());
        assertEquals("client-a", me.path("client_id").asText());
        assertEquals("mcp", me.path("scopes").path(0).asText());
        assertEquals(1, me.path("scopes").size());

        JsonNode bob = McpTestServer.toolJson(s.callTool("bob-token", "whoami", null));
        assertEquals("google:1234", bob.path("subject").asText());
        assertEquals("bob@example.com", bob.path("username").asText());
    }

    @Test
    void everyLegacyProtocolVersionIsNegotiatedAndAnUnknownOneGetsTheNewest() {
        assertEquals("2025-03-26", s.initialize("alice-token", "2025-03-26").json().path("result").path("protocolVersion").asText());
        assertEquals("2025-06-18", s.initialize("alice-token", "2025-06-18").json().path("result").path("protocolVersion").asText());
        assertEquals("2025-11-25", s.initialize("alice-token", "2025-11-25").json().path("result").path("protocolVersion").asText());
        McpTestServer.Res old = s.initialize("alice-token", "2024-11-05");
        assertEquals(200, old.status());
        assertEquals("2025-11-25", old.json().path("result").path("protocolVersion").asText());
    }

    @Test
    void protocolVersionHeaderMustBeSupportedWhenSent() {
        for (String ok : List.of("2025-03-26", "2025-06-18", "2025-11-25")) {
            McpTestServer.Res r = s.rpc("alice-token", "tools/list", "{}", ok);
            assertEquals(200, r.status(), ok + " " + r);
        }
        assertEquals(200, s.rpc("alice-token", "tools/list", "{}", null).status(), "absent header is tolerated (2025-03-26)");
        for (String bad : List.of("2024-11-05", "2099-01-01", "garbage")) {
            McpTestServer.Res r = s.rpc("alice-token", "tools/list", "{}", bad);
            assertEquals(400, r.status(), bad + " " + r);
            JsonNode body = r.json();
            assertEquals("2.0", body.path("jsonrpc").asText());
            assertEquals(7, body.path("id").asInt(), "the request's id: " + r.body());
            assertEquals(-32022, body.path("error").path("code").asInt(), "UnsupportedProtocolVersionError: " + r.body());
            assertEquals(bad, body.path("error").path("data").path("requested").asText());
            assertEquals(List.of("2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"),
                    Json.MAPPER.convertValue(body.path("error").path("data").path("supported"), List.class));
            NoStackTraces.assertClean(r);
        }
    }

    @Test
    void toolsRunOnTheRequestThread() {
        McpTestServer.Res r = s.callTool("alice-token", "thread_probe", null);
        assertEquals(200, r.status(), r.toString());
        JsonNode probe = McpTestServer.toolJson(r);
        assertTrue(probe.path("inside_filter").asBoolean(), r.body());
        assertFalse(probe.path("thread").asText().contains("boundedElastic"), r.body());
    }

    @Test
    void aToolThatThrowsGivesAToolErrorWithoutDetails() {
        McpTestServer.Res r = s.callTool("alice-token", "boom", null);
        assertEquals(200, r.status(), r.toString());
        assertTrue(r.json().path("result").path("isError").asBoolean(), r.body());
        assertFalse(r.body().contains("secret-internal-detail"), r.body());
        NoStackTraces.assertClean(r);
    }

    @Test
    void toolCallsAreCounted() {
        long before = s.endpoint.toolCalls();
        s.callTool("alice-token", "whoami", null);
        s.callTool("bob-token", "whoami", null);
        s.callTool("bob-token", "notes_list", null);
        assertEquals(before + 3, s.endpoint.toolCalls());
        assertEquals(2L, s.endpoint.toolCallsByTool().get("whoami"));
        assertEquals(1L, s.endpoint.toolCallsByTool().get("notes_list"));
    }

    @Test
    void otherJavalinRoutesStillWork() {
        McpTestServer.Res r = s.raw("GET", "/hello", List.of("Host: localhost:" + s.port), null);
        assertEquals(200, r.status());
        assertEquals("hi", r.body());
    }

    @Test
    void initializeIsNotLoggedAtInfoWithClientDetails() {
        assertFalse(LoggerFactory.getLogger("io.modelcontextprotocol.server.McpStatelessAsyncServer").isInfoEnabled());
        assertFalse(LoggerFactory.getLogger("io.modelcontextprotocol.server.McpStatelessAsyncServer").isWarnEnabled());
        assertFalse(LoggerFactory.getLogger("io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport").isErrorEnabled());
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            McpTestServer.Res r = s.rpc("alice-token", "initialize", "{\"protocolVersion\":\"1999-01-01\",\"capabilities\":{},"
                    + "\"clientInfo\":{\"name\":\"distinctive-client-name-4711\",\"version\":\"1.0\"}}");
            assertEquals(200, r.status());
            s.send(s.post("alice-token", "{not json"));
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains("distinctive-client-name-4711"), log);
        assertFalse(log.contains("1999-01-01"), log);
    }

    @Test
    void duplicateOrInvalidToolNamesAreRefusedAtStart() {
        Settings settings = Settings.from(Map.of("PORT", "8000"));
        try (FileStore store = FileStore.open(dir.resolve("other"))) {
            Notes notes = new Notes(FileStores.notes(store));
            List<McpTool> twice = new ArrayList<>(BuiltInTools.builtIn(settings, notes));
            twice.add(new WhoamiTool("mcp"));
            assertThrows(IllegalArgumentException.class, () -> new McpEndpoint(settings, t -> null, twice));
            McpTool badName = new TestTools.AdminEcho() {
                @Override
                public String name() {
                    return "has space";
                }
            };
            assertThrows(IllegalArgumentException.class, () -> new McpEndpoint(settings, t -> null, List.of(badName)));
        }
    }

    @Test
    void builtInToolsRequireTheDefaultScopes() {
        Settings settings = Settings.from(Map.of("PORT", "8000", "OAUTH_SCOPES", "mcp files", "OAUTH_DEFAULT_SCOPES", "files"));
        assertEquals("files", McpEndpoint.defaultScope(settings));
        try (FileStore store = FileStore.open(dir.resolve("scopes"))) {
            for (McpTool t : BuiltInTools.builtIn(settings, new Notes(FileStores.notes(store)))) assertEquals("files", t.requiredScope(), t.name());
        }
        assertEquals("mcp", McpEndpoint.defaultScope(Settings.from(Map.of("PORT", "8000"))));
    }

    @Test
    void exactlyOneJsonModuleOfTheSdkIsOnTheClasspath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("tools.jackson.databind.ObjectMapper"), "no Jackson 3");
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper"));
        assertTrue(io.modelcontextprotocol.json.McpJsonDefaults.getMapper() instanceof io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper);
    }

    @Test
    void anAuthContextWithoutScopesIsSafe() {
        AuthContext none = new AuthContext("local:x", "x", "local", "c", null, null);
        assertTrue(none.scopes().isEmpty());
        assertFalse(none.hasScope("mcp"));
        assertTrue(none.hasScope(null));
    }

    private static JsonNode find(JsonNode tools, String name) {
        for (JsonNode t : tools) {
            if (t.path("name").asText().equals(name)) return t;
        }
        throw new AssertionError("no tool " + name + " in " + tools);
    }
}
