package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.admin.Command;
import io.mcpoauth.config.Settings;
import io.mcpoauth.http.OAuthError;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line through {@code Main.run}: help, version, errors, and the users commands on a stopped or running server. */
class MainTest {
    static final String PASSWORD = "a long enough password";
    @TempDir
    Path dir;
    @TempDir
    Path work;

    /** The outcome of one invocation. */
    record Run(int code, String out, String err) {
        void noStackTrace() {
            for (String s : new String[] {out, err}) {
                assertFalse(s.contains("\tat ") || s.contains("Exception") || s.contains("Caused by"), s);
            }
        }
    }

    static Run run(Supplier<Settings> settings, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), settings);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Run run(String stdin, String... args) {
        return run(() -> Settings.from(Map.of("OAUTH_DATA_DIR", dir.toString())), stdin, args);
    }

    static Supplier<Settings> failIfAsked() {
        return () -> {
            throw new AssertionError("settings were read");
        };
    }

    @Test
    void helpListsEveryCommand() {
        for (String flag : new String[] {"--help", "-h", "help"}) {
            Run r = run(failIfAsked(), "", flag);
            assertEquals(0, r.code());
            assertTrue(r.out().contains("Usage:"), r.out());
            for (Command c : Main.commands()) {
                for (String usage : c.usage()) assertTrue(r.out().contains(usage), "--help lacks '" + usage + "':\n" + r.out());
            }
            assertTrue(r.out().contains("--version"));
            assertEquals("", r.err());
        }
    }

    @Test
    void versionPrintsOneLine() {
        Run r = run(failIfAsked(), "", "--version");
        assertEquals(0, r.code());
        assertEquals("mcp-oauth-server " + Main.VERSION, r.out().strip());
        assertEquals(0, run(failIfAsked(), "", "-V").code());
    }

    @Test
    void unknownCommandExits2WithASentence() {
        Run r = run(failIfAsked(), "", "frobnicate");
        assertEquals(2, r.code());
        assertEquals("", r.out());
        String line = r.err().strip();
        assertTrue(line.contains("frobnicate") && line.contains("--help") && line.endsWith("."), line);
        assertFalse(line.contains("\n"), line);
        r.noStackTrace();
        Run sub = run("", "users", "frobnicate");
        assertEquals(2, sub.code());
        assertTrue(sub.err().contains("Usage:"), sub.err());
        sub.noStackTrace();
    }

    @Test
    void configurationErrorExits2WithOneLineAndNoStackTrace() {
        Supplier<Settings> bad = () -> Settings.from(Map.of("PORT", "eighty", "OAUTH_DATA_DIR", dir.toString()));
        for (String[] args : new String[][] {{"users", "list"}, {"serve"}, {}}) {
            Run r = run(bad, "", args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("Configuration error: PORT=eighty: expected "), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            r.noStackTrace();
        }
        Run secret = run(() -> Settings.from(Map.of("ADMIN_TOKEN", "short-secret-value", "OAUTH_DATA_DIR", dir.toString())), "", "users", "list");
        assertEquals(2, secret.code());
        assertTrue(secret.err().startsWith("Configuration error: ADMIN_TOKEN"), secret.err());
        assertFalse(secret.err().contains("short-secret-value"), "a secret setting is never echoed");
    }

    @Test
    void usersAddPasswdListRemoveOnAStoppedServer() {
        Run add = run(PASSWORD + "\n", "users", "add", "Alice", "--password-stdin");
        assertEquals(0, add.code(), add.err());
        assertEquals("Added user 'alice'.", add.out().strip());

        Run again = run(PASSWORD + "\n", "users", "add", "alice", "--password-stdin");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists"), again.err());
        again.noStackTrace();

        Run shortPw = run("short\n", "users", "add", "bob", "--password-stdin");
        assertEquals(1, shortPw.code(), shortPw.out());
        assertEquals("The password must be at least 12 characters long.", shortPw.err().strip());
        Run badName = run(PASSWORD + "\n", "users", "add", "bad name!", "--password-stdin");
        assertEquals(1, badName.code());
        assertTrue(badName.err().contains("User names are"), badName.err());
        Run noStdin = run("", "users", "add", "bob", "--password-stdin");
        assertEquals(2, noStdin.code());
        assertTrue(noStdin.err().contains("No password on standard input."), noStdin.err());
        Run noTerminal = run("", "users", "add", "bob");
        assertEquals(2, noTerminal.code());
        assertTrue(noTerminal.err().contains("--password-stdin"), noTerminal.err());
        assertEquals(2, run("", "users", "add").code());
        assertEquals(2, run("", "users", "add", "a", "b", "--password-stdin").code());
        assertEquals(2, run("", "users", "list", "extra").code());

        Run list = run("", "users", "list");
        assertEquals(0, list.code());
        assertTrue(list.out().contains("USER") && list.out().contains("alice"), list.out());
        assertFalse(list.out().contains("bob"), list.out());

        String newPassword = "another long password";
        Run passwd = run(newPassword + "\n", "users", "passwd", "alice", "--password-stdin");
        assertEquals(0, passwd.code(), passwd.err());
        assertEquals("Changed the password of 'alice': every browser session of theirs has ended; their applications stay signed in (add --revoke to end those too).", passwd.out().strip());
        Run passwdShort = run("tiny\n", "users", "passwd", "alice", "--password-stdin");
        assertEquals(1, passwdShort.code());
        assertEquals("The password must be at least 12 characters long.", passwdShort.err().strip());
        Run passwdNobody = run(PASSWORD + "\n", "users", "passwd", "nobody", "--password-stdin");
        assertEquals(1, passwdNobody.code());

        // the new password signs in, the old one does not; a grant is made for the remove test below
        String refreshToken;
        String clientId;
        Map<String, String> env = Map.of("PORT", String.valueOf(TestServer.freePort()));
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            clientId = c.clientId;
            HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
            Map<String, String> f = OAuthClientSim.hiddenFields(page.body());
            f.put("username", "alice");
            f.put("password", PASSWORD);
            assertEquals(401, c.browserPost("/login", f).statusCode(), "the old password still works");
            Map<String, String> back = c.authorize("alice", newPassword, "allow");
            JsonNode t = TestServer.json(c.exchange(back.get("code")));
            refreshToken = t.get("refresh_token").asText();
        }

        Run remove = run("", "users", "remove", "alice");
        assertEquals(0, remove.code(), remove.err());
        assertTrue(remove.out().startsWith("Removed user 'alice' and revoked 1 of their grants"), remove.out());
        Run removeAgain = run("", "users", "remove", "alice");
        assertEquals(1, removeAgain.code());
        removeAgain.noStackTrace();
        Run empty = run("", "users", "list");
        assertEquals(0, empty.code());
        assertEquals("No users.", empty.out().strip());

        // the removed user's grant is gone
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.clientId = clientId;
            HttpResponse<String> r = c.refresh(refreshToken);
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(OAuthError.INVALID_GRANT, TestServer.json(r).get("error").asText());
        }
    }

    @Test
    void whileAnotherProcessServesTheDirectory() throws Exception {
        Path data = dir.resolve("data");
        Supplier<Settings> settings = () -> Settings.from(Map.of("OAUTH_DATA_DIR", data.toString(), "PORT", String.valueOf(TestServer.freePort())));
        try (ServeProcessTest.Child server = ServeProcessTest.Child.serve(work, data, TestServer.freePort())) {
            server.awaitLine(l -> l.contains("Listening on"), ServeProcessTest.START);
            assertEquals(200, ServeProcessTest.healthz(server.port));
            long pid = server.pid();

            // a second server on the same directory is refused, naming the one that holds it
            Run second = run(settings, "", "serve");
            assertEquals(1, second.code(), second.out() + second.err());
            assertTrue(second.err().contains("Another mcp-oauth-server (pid " + pid + ") is using the data directory"), second.err());
            second.noStackTrace();

            // user commands go through the running server
            Run add = run(settings, PASSWORD + "\n", "users", "add", "carol", "--password-stdin");
            assertEquals(0, add.code(), add.err());
            assertEquals("Added user 'carol'.", add.out().strip());
            Run list = run(settings, "", "users", "list");
            assertEquals(0, list.code(), list.err());
            assertTrue(list.out().contains("carol") && list.out().contains("admin"), list.out());
            Run shortPw = run(settings, "short\n", "users", "add", "dave", "--password-stdin");
            assertEquals(1, shortPw.code());
            assertTrue(shortPw.err().contains("at least 12 characters"), shortPw.err());

            // recovery needs the server stopped
            Run recover = run(settings, "", "store", "recover");
            assertEquals(1, recover.code());
            assertTrue(recover.err().contains("(pid " + pid + ")") && recover.err().contains("stop it"), recover.err());

            server.term();
            server.awaitExit(ServeProcessTest.STOP);
        }
        // stopped: the commands open the directory themselves, and see what the server saved
        Run list = run(settings, "", "users", "list");
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains("carol"), list.out());
    }
}
