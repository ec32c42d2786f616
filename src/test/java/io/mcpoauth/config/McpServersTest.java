package io.mcpoauth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The servers file: what a good file means, and the one line each mistake gets. */
class McpServersTest {
    @TempDir
    Path dir;

    private String error(String json) throws Exception {
        Path f = dir.resolve("mcp-servers.json");
        Files.writeString(f, json);
        ConfigException e = assertThrows(ConfigException.class, () -> McpServers.load(f.toString(), Map.of("TOKEN", "s3cret")::get, new java.util.LinkedHashSet<>(List.of("mcp", "files"))));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage().replace(f.toString(), "mcp-servers.json");
    }

    @Test
    void aGoodFileIsReadWithDefaultsAndExpansion() throws Exception {
        Path f = dir.resolve("servers.json");
        Files.writeString(f, """
                {"servers": {
                  "search": {"url": "http://127.0.0.1:9000/mcp", "headers": {"X-Key": "k-${TOKEN}"}, "tools": {"deny": ["reset"]},
                             "access": {"domains": ["@Example.com"]}, "scope": "files", "identity": "jwt"},
                  "files": {"command": "sh", "args": ["a.js"], "env": {"T": "${TOKEN}"}, "per_user": true, "idle_timeout_seconds": 5,
                            "connection": {"name": "github", "as": "env:GH_TOKEN"}},
                  "builtin": {"enabled": false}},
                 "connections": {"github": {"anything": 1}}}
                """);
        McpServers s = McpServers.load(f.toString(), Map.of("TOKEN", "s3cret")::get, new java.util.LinkedHashSet<>(List.of("mcp", "files")));
        assertFalse(s.builtinEnabled());
        assertEquals(List.of("files", "search"), List.copyOf(s.servers().keySet()));
        McpServers.Entry search = s.servers().get("search");
        assertEquals("k-s3cret", search.headers().get("X-Key"));
        assertFalse(search.offers("reset"));
        assertTrue(search.offers("query"));
        assertTrue(search.admits("local:x", "bob@example.com"));
        assertFalse(search.admits("local:alice", "alice"));
        assertEquals("http://127.0.0.1:9000/mcp", search.audience());
        McpServers.Entry files = s.servers().get("files");
        assertTrue(files.stdio() && files.perUser());
        assertEquals(Duration.ofSeconds(5), files.idleTimeout());
        assertEquals("s3cret", files.env().get("T"));
        assertEquals("env", files.connection().kind());
        assertEquals("GH_TOKEN", files.connection().target());
        assertEquals("mcp-server:files", files.audience());
        assertEquals(McpServers.DEFAULT_TIMEOUT, files.timeout());
    }

    @Test
    void noFileMeansNoServersButAnExplicitMissingFileIsAnError() {
        assertEquals(McpServers.NONE, McpServers.load("", k -> null, Set.of("mcp")));
        ConfigException e = assertThrows(ConfigException.class, () -> McpServers.load(dir.resolve("nope.json").toString(), k -> null, Set.of("mcp")));
        assertTrue(e.getMessage().startsWith("MCP_SERVERS_FILE=") && e.getMessage().endsWith(": no such file"), e.getMessage());
    }

    @Test
    void eachMistakeGetsOneLineNamingTheKey() throws Exception {
        assertEquals("mcp-servers.json: servers.a.url: expected an absolute http or https URL without user information or fragment, e.g. http://127.0.0.1:9000/mcp",
                error("{\"servers\": {\"a\": {\"url\": \"ftp://x\"}}}"));
        assertEquals("mcp-servers.json: servers.a: give either \"url\" (Streamable HTTP) or \"command\" (stdio)", error("{\"servers\": {\"a\": {}}}"));
        assertEquals("mcp-servers.json: servers.a.colour: unknown key (expected one of access, args, command, connection, cwd, description, env, headers, identity, idle_timeout_seconds, max_concurrent, max_concurrent_per_user, max_processes, per_user, scope, timeout_seconds, tools, url)",
                error("{\"servers\": {\"a\": {\"url\": \"http://x/mcp\", \"colour\": 1}}}"));
        assertEquals("mcp-servers.json: servers.A_b: a server name is 1 to 32 of a-z, 0-9 and '-'", error("{\"servers\": {\"A_b\": {\"url\": \"http://x\"}}}"));
        assertEquals("mcp-servers.json: servers.a.headers.X: ${MISSING} is not set in the environment or .env",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"headers\": {\"X\": \"${MISSING}\"}}}}"));
        assertEquals("mcp-servers.json: servers.a.identity: expected \"none\" or \"jwt\"", error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"identity\": \"basic\"}}}"));
        assertEquals("mcp-servers.json: servers.a.scope: 'admin' is not in OAUTH_SCOPES (mcp files)", error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"scope\": \"admin\"}}}"));
        assertEquals("mcp-servers.json: servers.a.per_user: only for a stdio server (with \"command\"), not with \"url\"",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"per_user\": true}}}"));
        assertEquals("mcp-servers.json: servers.a.timeout_seconds: expected a whole number between 1 and 600",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"timeout_seconds\": 0}}}"));
        assertEquals("mcp-servers.json: servers.a.connection.as: \"env:...\" needs \"per_user\": true (a shared process cannot hold one user's token)",
                error("{\"servers\": {\"a\": {\"command\": \"sh\", \"connection\": {\"name\": \"gh\", \"as\": \"env:GH\"}}}}"));
        assertEquals("mcp-servers.json: servers.a.connection.as: expected \"bearer\", \"header:X-Name\" or \"env:VAR\"",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"connection\": {\"name\": \"gh\", \"as\": \"cookie\"}}}}"));
        assertEquals("mcp-servers.json: servers.a.headers.Mcp-Session-Id: set by the gateway itself; remove it",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"headers\": {\"Mcp-Session-Id\": \"1\"}}}}"));
        assertEquals("mcp-servers.json: servers.a.command: 'no-such-program-anywhere' is not found in PATH",
                error("{\"servers\": {\"a\": {\"command\": \"no-such-program-anywhere\"}}}"));
        assertEquals("mcp-servers.json: servers.a.command: '/nonexistent/bin/x' is not an executable file",
                error("{\"servers\": {\"a\": {\"command\": \"/nonexistent/bin/x\"}}}"));
        assertEquals("mcp-servers.json: servers.a.headers.X: the value (after ${VAR} expansion) must be printable ASCII",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"headers\": {\"X\": \"caf\u00e9\"}}}}"));
        assertEquals("mcp-servers.json: servers.builtin.tools: unknown key (expected one of enabled)", error("{\"servers\": {\"builtin\": {\"tools\": 1}}}"));
        assertEquals("mcp-servers.json: extra: unknown key (expected one of connections, groups, servers)", error("{\"servers\": {}, \"extra\": 1}"));
        assertTrue(error("{\"servers\": {\"a\": {\"url\": \"http://x\"}, \"a\": {\"url\": \"http://y\"}}}").startsWith("mcp-servers.json: not valid JSON (line 1"));
    }

    @Test
    void everyServerWithAMistakeGetsItsOwnLine() throws Exception {
        Path f = dir.resolve("mcp-servers.json");
        Files.writeString(f, "{\"servers\": {\"a\": {\"url\": \"ftp://x\"}, \"ok\": {\"url\": \"http://x/mcp\"}, \"b\": {}}}");
        ConfigException e = assertThrows(ConfigException.class, () -> McpServers.load(f.toString(), k -> null, Set.of("mcp")));
        assertEquals(List.of(f + ": servers.a.url: expected an absolute http or https URL without user information or fragment, e.g. http://127.0.0.1:9000/mcp",
                f + ": servers.b: give either \"url\" (Streamable HTTP) or \"command\" (stdio)"), e.lines());
    }

    @Test
    void groupsAdmitTheirMembersAndEveryBadGroupGetsALine() throws Exception {
        Path f = dir.resolve("groups.json");
        Files.writeString(f, """
                {"groups": {"staff": ["alice", "carol@example.com"], "ops": ["local:dave"]},
                 "servers": {"team": {"url": "http://x/mcp", "access": {"groups": ["staff", "ops"], "users": ["erin"]}}}}
                """);
        McpServers.Entry team = McpServers.load(f.toString(), k -> null, Set.of("mcp")).servers().get("team");
        assertEquals(List.of("staff", "ops"), team.groups());
        assertTrue(team.admits("local:alice", "alice"));
        assertTrue(team.admits("google:123", "carol@example.com"));
        assertTrue(team.admits("local:dave", "dave"));
        assertTrue(team.admits("local:erin", "erin"));
        assertFalse(team.admits("local:bob", "bob"));
        assertFalse(team.admits("google:9", "mallory@example.com"));
        assertEquals("mcp-servers.json: servers.a.access.groups: 'staf' is not a group of \"groups\" (ops, staff)",
                error("{\"groups\": {\"staff\": [\"a\"], \"ops\": [\"b\"]}, \"servers\": {\"a\": {\"url\": \"http://x\", \"access\": {\"groups\": [\"staf\"]}}}}"));
        assertEquals("mcp-servers.json: servers.a.access.groups: 'staff' is not a group of \"groups\" (there are none)",
                error("{\"servers\": {\"a\": {\"url\": \"http://x\", \"access\": {\"groups\": [\"staff\"]}}}}"));
        assertEquals("mcp-servers.json: groups.staff: lists nobody; give its members (usernames or e-mail addresses) or remove it",
                error("{\"groups\": {\"staff\": []}, \"servers\": {\"a\": {\"url\": \"http://x\", \"access\": {\"groups\": [\"staff\"]}}}}"));
        assertEquals("mcp-servers.json: groups.staff: expected an array of strings", error("{\"groups\": {\"staff\": \"alice\"}, \"servers\": {}}"));
        assertEquals("mcp-servers.json: groups: expected an object of NAME: [\"alice\", \"bob@example.com\", ...]", error("{\"groups\": [], \"servers\": {}}"));
    }
}
