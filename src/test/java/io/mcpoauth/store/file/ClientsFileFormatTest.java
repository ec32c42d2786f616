package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** clients.json is for people too: indented, stably ordered, no nulls, no secrets (only their hashes). */
class ClientsFileFormatTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void clientsFileIsReadableAndHoldsNoSecret() throws Exception {
        String secret = Secrets.mint(Secrets.CLIENT_SECRET);
        String registrationToken = Secrets.mint(Secrets.REGISTRATION_TOKEN);
        try (FileStore store = FileStore.open(dir)) {
            ClientStore clients = FileStores.clients(store);
            // registered out of order: the file is ordered by client id regardless
            clients.put(client("mcpc_zeta", "Zeta Desktop", null, null));
            clients.put(client("mcpc_alpha", "Claude Code", Secrets.hash(secret), Secrets.hash(registrationToken)));
            clients.put(client("mcpc_mid", "VS Code", null, null));
        }
        String text = Files.readString(dir.resolve(io.mcpoauth.store.file.FileStores.CLIENTS));
        List<String> lines = text.lines().toList();

        assertTrue(lines.size() > 30, "one field per line, not one line per record:\n" + text);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("      \"client_name\": \"Claude Code\"")), "indented fields:\n" + text);
        assertTrue(text.contains("\"redirect_uris\": ["), text);
        assertTrue(text.contains("\"created_at\": \"2030-01-01T00:00:00Z\""), "instants are ISO-8601 strings:\n" + text);
        assertTrue(text.contains("\"client_secret_hash\": \"" + Secrets.hash(secret) + "\""), text);
        assertFalse(text.contains("null"), "no null fields:\n" + text);
        assertFalse(text.contains(secret), "no client secret");
        assertFalse(text.contains(secret.substring(Secrets.CLIENT_SECRET.length())), "no client secret, even without its prefix");
        assertFalse(text.contains(registrationToken.substring(Secrets.REGISTRATION_TOKEN.length())), "no registration token");

        JsonNode root = SnapshotFormat.MAPPER.readTree(text);
        assertEquals(List.of("format", "kind", "generation", "written_at", "records", "crc32c"), names(root));
        assertEquals(List.of("mcpc_alpha", "mcpc_mid", "mcpc_zeta"), names(root.get("records")), "records sorted by key");
        JsonNode alpha = root.get("records").get("mcpc_alpha");
        assertEquals("http://127.0.0.1:33418/callback", alpha.get("redirect_uris").get(1).asText());
        assertNull(alpha.get("last_used_at"), "absent rather than null");
        // the field order is the record's declaration order: stable from one write to the next
        assertEquals(List.of("client_id", "client_name", "redirect_uris", "grant_types", "response_types", "token_endpoint_auth_method",
                "scope", "created_at", "client_secret_hash", "registration_token_hash"), names(alpha));

        try (FileStore store = FileStore.open(dir)) {
            ClientStore clients = FileStores.clients(store);
            assertEquals(3, clients.count());
            ClientRecord c = clients.get("mcpc_alpha");
            assertEquals("Claude Code", c.clientName());
            assertEquals(T0, c.createdAt());
            assertTrue(Secrets.matches(secret, c.clientSecretHash()));
            clients.markUsed("mcpc_alpha", T0.plus(Duration.ofDays(1)));
        }
        String after = Files.readString(dir.resolve(io.mcpoauth.store.file.FileStores.CLIENTS));
        assertTrue(after.contains("\"last_used_at\": \"2030-01-02T00:00:00Z\""), after);
    }

    @Test
    void refreshTokensFileHasOneLinePerFamilyAndNoToken() throws Exception {
        List<String> issued = new ArrayList<>();
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), Duration.ofDays(30));
            for (int i = 0; i < 3; i++) issued.add(tokens.create("mcpc_a", "user" + i, "mcp", null, true, T0).refreshToken());
            issued.add(tokens.rotate(issued.get(0), "mcpc_a", T0, f -> {}).refreshToken());
        }
        String text = Files.readString(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS));
        long recordLines = text.lines().filter(l -> l.startsWith("    \"")).count();
        assertEquals(3, recordLines, "one line per family:\n" + text);
        assertFalse(text.contains("null"), text);
        for (String t : issued) assertFalse(text.contains(t.substring(t.indexOf('.') + 1)), "no raw refresh token in the file");
    }

    private static ClientRecord client(String id, String name, String secretHash, String registrationTokenHash) {
        return new ClientRecord(id, name, List.of("http://localhost:33418/callback", "http://127.0.0.1:33418/callback"),
                List.of("authorization_code", "refresh_token"), List.of("code"), secretHash == null ? "none" : "client_secret_basic",
                "mcp", null, null, null, T0, null, secretHash, registrationTokenHash);
    }

    private static List<String> names(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }
}
