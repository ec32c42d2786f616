package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code store backup} taken while the server runs, restored into a fresh data directory: the server started there
 * knows the same clients, users and API keys, and a refresh token from before the backup works against it.
 */
class BackupRestoreTest {
    @TempDir
    Path dir;

    @Test
    void aRestoredBackupServesTheSameClientsAndTokens() throws Exception {
        int port = TestServer.freePort();
        Path original = dir.resolve("original");
        Map<String, String> envA = Map.of("PORT", String.valueOf(port), "OAUTH_DATA_DIR", original.toString());
        Path backup = dir.resolve("backup");
        String clientId;
        String preBackupRefresh;
        String postBackupRefresh;
        String apiKey;
        try (TestServer a = TestServer.start(original, envA)) {
            OAuthClientSim.addUser(a, "alice", AdminCommandsTest.PASSWORD);
            OAuthClientSim c = new OAuthClientSim(a);
            c.register("none");
            clientId = c.clientId;
            JsonNode t = TestServer.json(c.exchange(c.authorize("alice", AdminCommandsTest.PASSWORD, "allow").get("code")));
            preBackupRefresh = t.get("refresh_token").asText();
            apiKey = AdminCommandsTest.key(AdminCommandsTest.cli(envA, null, "apikeys", "create", "--user", "alice", "--name", "ci").ok());

            AdminCommandsTest.Run r = AdminCommandsTest.cli(envA, null, "store", "backup", backup.toString()).ok();
            assertTrue(r.out().contains("taken by the running server"), r.out());

            // after the backup the grant moves on; the backup keeps the state it had
            postBackupRefresh = TestServer.json(c.refresh(preBackupRefresh)).get("refresh_token").asText();
        }

        Path fresh = Files.createDirectories(dir.resolve("fresh"));
        try (Stream<Path> files = Files.list(backup)) {
            for (Path f : files.toList()) Files.copy(f, fresh.resolve(f.getFileName()));
        }
        try (TestServer b = TestServer.start(fresh, Map.of("PORT", String.valueOf(port), "OAUTH_DATA_DIR", fresh.toString()))) {
            assertEquals("Test Client", b.server.clients.get(clientId).clientName());
            OAuthClientSim c = new OAuthClientSim(b);
            c.clientId = clientId;
            HttpResponse<String> refreshed = c.refresh(preBackupRefresh);
            assertEquals(200, refreshed.statusCode(), refreshed.body());
            String access = TestServer.json(refreshed).get("access_token").asText();
            HttpResponse<String> who = AdminCommandsTest.tool(b, access);
            assertEquals(200, who.statusCode(), who.body());
            assertTrue(who.body().contains("local:alice"), who.body());
            assertEquals(200, AdminCommandsTest.tool(b, apiKey).statusCode(), "the API key too");
            assertEquals(400, c.refresh(postBackupRefresh).statusCode(), "a rotation after the backup is not in it");

            // and the commands see the same client through the restored server
            Map<String, String> envB = Map.of("PORT", String.valueOf(port), "OAUTH_DATA_DIR", fresh.toString());
            String clients = AdminCommandsTest.cli(envB, null, "clients", "list").ok().out();
            Matcher m = Pattern.compile(Pattern.quote(clientId) + " +Test Client +none +1 ").matcher(clients);
            assertTrue(m.find(), clients);
        }
    }
}
