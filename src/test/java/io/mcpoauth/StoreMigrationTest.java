package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.Contents;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.postgres.PgStores;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * store migrate between a populated data directory and PostgreSQL, both ways, and store check / store backup on the
 * database: every client, grant, user and consent survives, and a client refreshes with the token it holds.
 */
class StoreMigrationTest {
    static final String PASSWORD = "correct horse battery";

    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        Run ok() {
            assertEquals(0, code, "exit 0 expected; out:\n" + out + "\nerr:\n" + err);
            return this;
        }
    }

    static Run cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]), () -> Settings.from(env));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aPopulatedDataDirectoryMovesIntoPostgresAndBackAndEveryClientKeepsRefreshing() throws Exception {
        Path files = dir.resolve("data");
        int port = TestServer.freePort();
        Map<String, String> fileEnv = Map.of("PORT", String.valueOf(port));
        String[] refresh = new String[3];
        String[] clientIds = new String[3];
        OAuthClientSim[] sims = new OAuthClientSim[3];
        Contents before;
        try (TestServer s = TestServer.start(files, fileEnv)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim.addUser(s, "bob", PASSWORD);
            for (int i = 0; i < 3; i++) {
                OAuthClientSim sim = new OAuthClientSim(s);
                sim.register(i == 1 ? "client_secret_post" : "none");
                Map<String, String> back = sim.authorize(i == 2 ? "bob" : "alice", PASSWORD, "allow");
                HttpResponse<String> t = sim.exchange(back.get("code"));
                assertEquals(200, t.statusCode(), t.body());
                refresh[i] = TestServer.json(t).get("refresh_token").asText();
                clientIds[i] = sim.clientId;
                sims[i] = sim;
            }
            HttpResponse<String> rotated = sims[0].refresh(refresh[0]); // a family in steady state: a previous token, a retired one
            refresh[0] = TestServer.json(rotated).get("refresh_token").asText();
            s.server.notes.add("local:alice", "remember the milk", java.time.Instant.now());
            before = s.server.stores.contents();
        }
        assertEquals(3, before.clients().size());
        assertEquals(3, before.grants().size());
        assertEquals(2, before.users().size());
        assertEquals(3, before.consents().size());

        String url = PG.newSchema();
        Map<String, String> migrate = Map.of("OAUTH_DATA_DIR", files.toString(), "DATABASE_URL", url);
        Run moved = cli(migrate, "store", "migrate", "--to", "postgres").ok();
        assertTrue(moved.out().contains("Copied"), moved.out());
        Run again = cli(migrate, "store", "migrate", "--to", "postgres");
        assertEquals(1, again.code(), "a database with records is never overwritten: " + again.out() + again.err());
        assertTrue(again.err().contains("already holds records"), again.err());

        Map<String, String> pgEnv = new HashMap<>(Map.of("PORT", String.valueOf(port), "STORE", "postgres", "DATABASE_URL", url,
                "DATABASE_POOL_SIZE", "3"));
        try (TestServer s = TestServer.start(dir.resolve("unused"), pgEnv)) {
            assertEquals(micros(before), micros(s.server.stores.contents()), "every client, grant, user, consent, key and note, as they were");
            for (int i = 0; i < 3; i++) {
                sims[i] = rebind(sims[i], s);
                HttpResponse<String> r = sims[i].refresh(refresh[i]);
                assertEquals(200, r.statusCode(), "client " + i + " refreshes with the token it held: " + r.body());
                refresh[i] = TestServer.json(r).get("refresh_token").asText();
            }
            // signed in before, consented before: no consent page for alice's client after the move
            int consentPages = sims[0].consentPages;
            sims[0].authorize("alice", PASSWORD, "allow");
            assertEquals(consentPages, sims[0].consentPages, "the consent moved too");
            assertEquals(List.of("remember the milk"), s.server.notes.list("local:alice").stream().map(n -> n.text()).toList());
        }

        Run check = cli(pgEnv, "store", "check").ok();
        assertTrue(check.out().contains("refresh_families") && check.out().contains("schema version 4"), check.out());
        Path backup = dir.resolve("backup");
        Run backedUp = cli(pgEnv, "store", "backup", backup.toString()).ok();
        assertTrue(backedUp.out().contains("refresh_tokens.json"), backedUp.out());
        try (FileStores b = FileStores.open(backup)) {
            assertEquals(3, b.awaitLoaded().grants().count(), "the backup is a data directory in the file backend's format");
        }

        Path back = dir.resolve("back");
        Map<String, String> fromEnv = Map.of("OAUTH_DATA_DIR", back.toString(), "DATABASE_URL", url);
        cli(fromEnv, "store", "migrate", "--from", "postgres").ok();
        try (TestServer s = TestServer.start(back, fileEnv)) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = rebind(sims[i], s).refresh(refresh[i]);
                assertEquals(200, r.statusCode(), "after the move back, client " + i + ": " + r.body());
            }
            assertEquals(3, s.server.clients.count());
        }
        assertFalse(Files.exists(back.resolve(".admin-api.json")));
    }

    /** The records as JSON, every time to the microsecond (what PostgreSQL keeps). */
    static com.fasterxml.jackson.databind.JsonNode micros(Contents c) {
        com.fasterxml.jackson.databind.JsonNode tree = io.mcpoauth.core.Json.MAPPER.valueToTree(c);
        truncate(tree);
        return tree;
    }

    private static void truncate(com.fasterxml.jackson.databind.JsonNode n) {
        if (n instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            for (java.util.Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
                if (e.getValue().isTextual() && e.getValue().asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z")) {
                    e.setValue(new com.fasterxml.jackson.databind.node.TextNode(java.time.Instant.parse(e.getValue().asText())
                            .truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString()));
                } else {
                    truncate(e.getValue());
                }
            }
        } else if (n != null && n.isArray()) {
            for (com.fasterxml.jackson.databind.JsonNode x : n) truncate(x);
        }
    }

    /** The same client (id, secret, verifier) talking to another server on the same URL. */
    private static OAuthClientSim rebind(OAuthClientSim old, TestServer s) {
        OAuthClientSim sim = new OAuthClientSim(s);
        sim.clientId = old.clientId;
        sim.clientSecret = old.clientSecret;
        sim.authMethod = old.authMethod;
        sim.redirectUri = old.redirectUri;
        sim.cookie = old.cookie;
        sim.consentPages = old.consentPages;
        sim.loginPages = old.loginPages;
        return sim;
    }

    @Test
    void aDatabaseNewerThanTheServerIsRefusedAndACompatibleOneIsUsed() {
        String url = PG.newSchema();
        try (Stores s = PgStores.open(url, null, 2, 100)) {
            assertEquals(0, s.clients().count());
        }
        PgTestDatabase.exec(url, "UPDATE schema_version SET version = 6, compatible_from = 5");
        io.mcpoauth.store.StoreException e = org.junit.jupiter.api.Assertions.assertThrows(io.mcpoauth.store.StoreException.class,
                () -> PgStores.open(url, null, 2, 100));
        assertEquals("The database has schema version 6 (usable from server schema 5 on); this server knows up to 4. Run the newer version of "
                + "mcp-oauth-server, or restore a backup taken before the upgrade.", e.getMessage());
        PgTestDatabase.exec(url, "UPDATE schema_version SET version = 5, compatible_from = 4");
        try (PgStores s = PgStores.open(url, null, 2, 100)) {
            assertEquals(5, s.schemaVersion()[0], "a newer schema declared usable by this server is used as it is");
        }
        String foreign = PG.newSchema();
        String schema = foreign.substring(foreign.indexOf("currentSchema=") + "currentSchema=".length());
        PgTestDatabase.exec(foreign, "CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".orders (id int)");
        e = org.junit.jupiter.api.Assertions.assertThrows(io.mcpoauth.store.StoreException.class, () -> PgStores.open(foreign, null, 2, 100));
        assertTrue(e.getMessage().contains("is not a mcp-oauth-server database"), e.getMessage());
    }

    @Test
    void aDatabaseOfSchemaTwoIsMigratedToTheCurrentSchemaKeepingItsRecords() throws java.sql.SQLException {
        String url = PG.newSchema();
        try (Stores s = PgStores.open(url, null, 2, 100)) {
            s.users().put(new io.mcpoauth.store.UserRecord("local:ann", "ann", "local", "ann", null, null, null, null, null, null));
        }
        // what a server of schema 2 left: no connections table, no change triggers, version 2
        PgTestDatabase.exec(url, "DROP TABLE connections; DROP FUNCTION announce_change() CASCADE; DELETE FROM schema_migrations WHERE version >= 3; "
                + "UPDATE schema_version SET version = 2, compatible_from = 1");
        try (PgStores s = PgStores.open(url, null, 2, 100)) {
            assertEquals(4, s.schemaVersion()[0], "migrated to 4");
            try (java.sql.Connection c = PgTestDatabase.connect(url); java.sql.Statement st = c.createStatement();
                    java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_trigger WHERE tgname IN ('users_changed', 'clients_changed') "
                            + "AND tgrelid::regclass::text IN ('users', 'clients')")) {
                rs.next();
                assertEquals(2, rs.getInt(1), "changes to users and clients are announced again");
            }
            assertEquals(1, s.users().count(), "the records of schema 2 are kept");
            io.mcpoauth.store.ConnectionRecord r = new io.mcpoauth.store.ConnectionRecord("local:ann", "github", "k", "v1.x", null, null,
                    List.of("repo"), "ann", io.mcpoauth.store.ConnectionRecord.CONNECTED, null, null, null, null, null, 1);
            s.connections().put(r);
            assertEquals(1, s.connections().count());
            assertEquals(1L, s.tableCounts().get("connections"));
        }
    }
}
