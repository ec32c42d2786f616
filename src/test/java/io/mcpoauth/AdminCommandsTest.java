package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.admin.AdminSocket;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.file.DataDirectory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin commands, each with the server stopped (the command opens the data directory) and running in another
 * process (the command goes through its loopback admin port): output, exit codes (0 done, 1 refused or not found,
 * 2 usage) and effects seen over HTTP.
 */
class AdminCommandsTest {
    static final String PASSWORD = "correct horse battery";
    private static final Pattern KEY = Pattern.compile("(mcpk_[A-Za-z0-9_-]+)\\.[A-Za-z0-9_-]{43}");

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        Run ok() {
            assertEquals(0, code, "exit 0 expected; out:\n" + out + "\nerr:\n" + err);
            return this;
        }

        Run fails(int expected) {
            assertEquals(expected, code, "exit " + expected + " expected; out:\n" + out + "\nerr:\n" + err);
            return this;
        }
    }

    static Run cli(Map<String, String> env, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream((stdin == null ? "" : stdin + "\n").getBytes(StandardCharsets.UTF_8)), () -> Settings.from(env));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String key(Run created) {
        Matcher m = KEY.matcher(created.out());
        assertTrue(m.find(), created.out());
        return m.group();
    }

    @Test
    void withTheServerStopped() throws IOException {
        Path data = dir.resolve("data");
        Map<String, String> env = Map.of("OAUTH_DATA_DIR", data.toString(), "AUDIT_LOG", dir.resolve("audit.log").toString());

        assertEquals("No users.\n", cli(env, null, "users", "list").ok().out());
        assertEquals("Added user 'alice'.\n", cli(env, PASSWORD, "users", "add", "Alice", "--password-stdin").ok().out());
        assertTrue(cli(env, PASSWORD, "users", "add", "alice", "--password-stdin").fails(1).err().contains("already exists"));
        assertTrue(cli(env, "short", "users", "add", "bob", "--password-stdin").fails(1).err().contains("at least 12 characters"));
        cli(env, "another long password", "users", "passwd", "alice", "--password-stdin").ok();
        assertTrue(cli(env, "another long password", "users", "passwd", "nobody", "--password-stdin").fails(1).err().contains("no local user"));
        assertTrue(cli(env, null, "users", "list").ok().out().matches("(?s)USER +PROVIDER +EMAIL +CREATED +LAST SIGN-IN\nalice +local +- .*"));

        // a client with a grant: made by a real sign-in on a server that is then stopped
        String clientId;
        String refreshToken;
        try (TestServer s = TestServer.start(data)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.register("none");
            clientId = c.clientId;
            refreshToken = TestServer.json(c.exchange(c.authorize("alice", "another long password", "allow").get("code")))
                    .get("refresh_token").asText();
        }
        String family = refreshToken.substring("mcprt_".length(), refreshToken.indexOf('.'));

        Run list = cli(env, null, "clients", "list").ok();
        assertTrue(list.out().startsWith("CLIENT ID"), list.out());
        assertTrue(list.out().contains(clientId + "  Test Client  none  1 "), list.out());
        Run show = cli(env, null, "clients", "show", clientId).ok();
        assertTrue(show.out().contains("Client ID:      " + clientId), show.out());
        assertTrue(show.out().contains("Consent given:  local:alice"), show.out());
        assertTrue(show.out().contains(family + "  alice "), show.out());
        assertFalse(show.out().contains(refreshToken), "never a token");
        assertTrue(cli(env, null, "clients", "show", "mcpc_nope").fails(1).err().contains("There is no client 'mcpc_nope'."));

        assertTrue(cli(env, null, "tokens", "list").ok().out().contains(family + "  alice  " + clientId + "  Test Client  mcp "));
        assertTrue(cli(env, null, "tokens", "list", "--user", "alice").ok().out().contains(family));
        assertTrue(cli(env, null, "tokens", "list", "--client", clientId).ok().out().contains(family));
        assertEquals("No grants match.\n", cli(env, null, "tokens", "list", "--client", "other").ok().out());
        cli(env, null, "tokens", "revoke").fails(2);
        cli(env, null, "tokens", "revoke", "--user", "alice", "--client", clientId).fails(2);
        cli(env, null, "tokens", "revoke", "--colour", "blue").fails(2);
        assertTrue(cli(env, null, "tokens", "revoke", "--family", "nope").fails(1).err().contains("no grant"));
        assertTrue(cli(env, null, "tokens", "revoke", "--user", "mallory").fails(1).err().contains("There is no user 'mallory'."));
        assertTrue(cli(env, null, "tokens", "revoke", "--family", family).ok().out().startsWith("Revoked 1 grant "));
        assertEquals("Nothing to revoke: no grant matches.\n", cli(env, null, "tokens", "revoke", "--user", "alice").ok().out());

        Run created = cli(env, null, "apikeys", "create", "--user", "alice", "--name", "laptop").ok();
        String apiKey = key(created);
        String id = apiKey.substring("mcpk_".length(), apiKey.indexOf('.'));
        assertTrue(created.out().contains("shown only this once"), created.out());
        cli(env, null, "apikeys", "create", "--name", "x").fails(2);
        assertTrue(cli(env, null, "apikeys", "create", "--user", "nobody", "--name", "x").fails(1).err().contains("There is no user 'nobody'."));
        assertTrue(cli(env, null, "apikeys", "create", "--user", "alice", "--name", "x", "--scope", "root").fails(1).err().contains("Unknown scope"));
        Run keys = cli(env, null, "apikeys", "list").ok();
        assertTrue(keys.out().contains(id + "  mcpk_" + id + ".…  laptop  alice  mcp "), keys.out());
        assertFalse(keys.out().contains(apiKey));
        assertTrue(cli(env, null, "apikeys", "revoke", id).ok().out().startsWith("Revoked API key " + id));
        cli(env, null, "apikeys", "revoke", id).fails(1);

        Run check = cli(env, null, "store", "check").ok();
        assertTrue(check.out().matches("(?s).*\nclients\\.json +ok +1 .*"), check.out());
        Path bk = dir.resolve("bk");
        assertTrue(cli(env, null, "store", "backup", bk.toString()).ok().out().contains("(server stopped;"));
        assertTrue(Files.exists(bk.resolve("clients.json")));
        assertTrue(cli(env, null, "store", "backup", bk.toString()).fails(1).err().contains("is not empty"));
        cli(env, null, "store", "backup").fails(2);
        assertTrue(cli(env, null, "store", "recover").ok().out().contains("clients.json: intact"));

        assertTrue(cli(env, null, "clients", "remove", clientId).ok().out().startsWith("Removed client " + clientId));
        cli(env, null, "clients", "remove", clientId).fails(1);
        assertTrue(cli(env, null, "users", "remove", "alice").ok().out().startsWith("Removed user 'alice'"));
        cli(env, null, "users", "remove", "alice").fails(1);

        cli(env, null, "clients").fails(2);
        cli(env, null, "clients", "frobnicate").fails(2);
        cli(env, null, "apikeys", "list", "extra").fails(2);
        Run help = cli(env, null, "--help").ok();
        for (String u : new String[]{"clients list", "tokens revoke --user USER", "apikeys create --user USER --name NAME", "store backup DIR"}) {
            assertTrue(help.out().contains(u), help.out());
        }
        String audit = Files.readString(dir.resolve("audit.log"));
        assertTrue(audit.contains("\"event\":\"client_removed\"") && audit.contains("\"event\":\"api_key_created\""), audit);
        assertFalse(audit.contains(apiKey) || audit.contains(PASSWORD));
    }

    @Test
    void throughARunningServerInAnotherProcess() throws Exception {
        Path data = dir.resolve("data");
        Path work = Files.createDirectories(dir.resolve("work"));
        int port = TestServer.freePort();
        Map<String, String> env = ServeProcess.env(port, data, Map.of());
        try (ServeProcess server = ServeProcess.start(work, env)) {
            TestServer http = TestServer.remote(server.url, data);
            assertEquals(String.valueOf(server.pid()), DataDirectory.runningServer(data));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(AdminSocket.FILE))));

            // users: the running server adds alice; she can sign in there at once
            assertEquals("Added user 'alice'.\n", cli(env, PASSWORD, "users", "add", "alice", "--password-stdin").ok().out());
            assertTrue(cli(env, null, "users", "list").ok().out().contains("\nalice "));
            OAuthClientSim c = new OAuthClientSim(http);
            c.register("none");
            JsonNode tokens = TestServer.json(c.exchange(c.authorize("alice", PASSWORD, "allow").get("code")));
            String access = tokens.get("access_token").asText();
            assertEquals(200, tool(http, access).statusCode());

            // clients and tokens, as the running server sees them
            assertTrue(cli(env, null, "clients", "list").ok().out().contains(c.clientId));
            assertTrue(cli(env, null, "clients", "show", c.clientId).ok().out().contains("Consent given:  local:alice"));
            assertTrue(cli(env, null, "tokens", "list", "--user", "alice").ok().out().contains(c.clientId));
            assertTrue(cli(env, null, "tokens", "revoke", "--client", c.clientId).ok().out().startsWith("Revoked 1 grant "));
            assertEquals(401, tool(http, access).statusCode(), "the running server dropped the access token at once");
            assertEquals(400, c.refresh(tokens.get("refresh_token").asText()).statusCode());

            // API keys made through the server work on it at once, and die at once
            String apiKey = key(cli(env, null, "apikeys", "create", "--user", "alice", "--name", "ci").ok());
            HttpResponse<String> who = tool(http, apiKey);
            assertEquals(200, who.statusCode(), who.body());
            assertTrue(who.body().contains("local:alice"), who.body());
            assertTrue(cli(env, null, "apikeys", "list").ok().out().matches("(?s).* ci +alice +mcp .*"));
            cli(env, null, "apikeys", "revoke", apiKey.substring(0, apiKey.indexOf('.'))).ok();
            assertEquals(401, tool(http, apiKey).statusCode());

            // store
            assertTrue(cli(env, null, "store", "check").ok().out().contains("Checked through the running server (pid " + server.pid() + ")"));
            Path bk = dir.resolve("bk");
            assertTrue(cli(env, null, "store", "backup", bk.toString()).ok().out().contains("taken by the running server, pid " + server.pid()));
            try (Stream<Path> files = Files.list(bk)) {
                for (Path f : files.toList()) assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            }
            assertTrue(cli(env, null, "store", "recover").fails(1).err().contains("stop it before recovering"));

            // errors come back as they do locally
            assertTrue(cli(env, null, "clients", "show", "mcpc_nope").fails(1).err().contains("There is no client 'mcpc_nope'."));
            assertTrue(cli(env, null, "users", "add", "alice", "--password-stdin").fails(2).err().contains("No password"));
            assertTrue(cli(env, PASSWORD, "users", "add", "alice", "--password-stdin").fails(1).err().contains("already exists"));

            String key2 = key(cli(env, null, "apikeys", "create", "--user", "alice", "--name", "second").ok());
            cli(env, "a new long password", "users", "passwd", "alice", "--password-stdin").ok();
            assertTrue(cli(env, null, "users", "remove", "alice").ok().out().contains("1 API key"));
            assertEquals(401, tool(http, key2).statusCode(), "the user's keys went with her");
            assertTrue(cli(env, null, "clients", "remove", c.clientId).ok().out().startsWith("Removed client " + c.clientId));

            server.stop();
            assertFalse(Files.exists(data.resolve(AdminSocket.FILE)), "withdrawn when the server stops");
            assertNull(DataDirectory.runningServer(data));
        }
        // stopped: the same commands open the directory themselves
        assertEquals("No clients.\n", cli(env, null, "clients", "list").ok().out());
        assertTrue(cli(env, null, "users", "list").ok().out().startsWith("USER "), "the first-start admin is still there");
    }

    @Test
    void aCredentialLeftByAKilledServerIsIgnored() throws Exception {
        Path data = dir.resolve("data");
        Path work = Files.createDirectories(dir.resolve("work"));
        Map<String, String> env = ServeProcess.env(TestServer.freePort(), data, Map.of());
        try (ServeProcess server = ServeProcess.start(work, env)) {
            server.kill();
        }
        assertTrue(Files.exists(data.resolve(AdminSocket.FILE)), "SIGKILL leaves it behind");
        assertTrue(cli(env, null, "users", "list").ok().out().contains("admin"), "the command opens the directory itself");

        Map<String, String> env2 = new HashMap<>(env);
        try (ServeProcess server = ServeProcess.start(work, env2)) {
            JsonNode cred = Json.MAPPER.readTree(Files.readAllBytes(data.resolve(AdminSocket.FILE)));
            assertEquals(server.pid(), cred.get("pid").asLong(), "replaced by the new server");
            assertTrue(cli(env, null, "users", "list").ok().out().contains("admin"));
            server.stop();
        }
    }

    @Test
    void serveStopsWithOneLineOnABadKeystore() {
        Map<String, String> env = Map.of("OAUTH_DATA_DIR", dir.resolve("data").toString(), "PORT", String.valueOf(TestServer.freePort()),
                "TLS_KEYSTORE", dir.resolve("missing.p12").toString(), "TLS_KEYSTORE_PASSWORD", "secret-password");
        Run r = cli(env, null, "serve").fails(2);
        assertEquals("Configuration error: TLS_KEYSTORE=" + dir.resolve("missing.p12") + ": no such file\n", r.err());
        assertFalse(r.err().contains("secret-password"));
        assertNull(DataDirectory.runningServer(dir.resolve("data")));
    }

    static HttpResponse<String> tool(TestServer s, String token) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
        return s.send(s.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-11-25")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)));
    }
}
