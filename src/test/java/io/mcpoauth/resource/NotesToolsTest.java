package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.tools.Notes;
import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** notes_add / notes_list through the endpoint, and the Notes store under them. */
class NotesToolsTest {
    @TempDir
    Path dir;

    private static List<String> texts(McpTestServer.Res r) {
        assertEquals(200, r.status(), r.toString());
        assertFalse(r.json().path("result").path("isError").asBoolean(), r.body());
        return java.util.stream.StreamSupport.stream(McpTestServer.toolJson(r).path("notes").spliterator(), false)
                .map(n -> n.path("text").asText()).toList();
    }

    private static String add(McpTestServer s, String token, String text) throws Exception {
        return s.callTool(token, "notes_add", Json.MAPPER.writeValueAsString(Map.of("text", text))).body();
    }

    @Test
    void twoUsersNotesAreIsolatedAndSurviveARestart() throws Exception {
        Path data = dir.resolve("data");
        try (McpTestServer s = new McpTestServer(data)) {
            McpTestServer.Res first = s.callTool("alice-token", "notes_add", "{\"text\":\"alice one\"}");
            assertEquals(200, first.status(), first.toString());
            JsonNode saved = McpTestServer.toolJson(first);
            assertEquals(1, saved.path("id").asInt());
            assertEquals("alice one", saved.path("text").asText());
            assertTrue(saved.path("created_at").asText().endsWith("Z"), first.body());
            add(s, "alice-token", "alice two ✓ with unicode");
            add(s, "bob-token", "bob secret");

            assertEquals(List.of("alice one", "alice two ✓ with unicode"), texts(s.callTool("alice-token", "notes_list", null)));
            assertEquals(List.of("bob secret"), texts(s.callTool("bob-token", "notes_list", null)));
            assertEquals(List.of(), texts(s.callTool("admin-token", "notes_list", null)));
        }
        assertTrue(Files.exists(data.resolve(io.mcpoauth.store.file.FileStores.NOTES)));
        try (McpTestServer s = new McpTestServer(data)) {
            assertEquals(List.of("alice one", "alice two ✓ with unicode"), texts(s.callTool("alice-token", "notes_list", null)));
            assertEquals(List.of("bob secret"), texts(s.callTool("bob-token", "notes_list", null)));
            // ids keep counting after a restart
            assertEquals(3, McpTestServer.toolJson(s.callTool("alice-token", "notes_add", "{\"text\":\"three\"}")).path("id").asInt());
        }
    }

    @Test
    void badInputIsAToolErrorNotAnHttpError() throws Exception {
        try (McpTestServer s = new McpTestServer(dir.resolve("data"))) {
            for (String args : List.of("{}", "{\"text\":\"\"}", "{\"text\":\"   \"}", "{\"text\":42}", "{\"text\":null}",
                    Json.MAPPER.writeValueAsString(Map.of("text", "x".repeat(2001))))) {
                McpTestServer.Res r = s.callTool("alice-token", "notes_add", args);
                assertEquals(200, r.status(), args + " " + r);
                assertTrue(r.json().path("result").path("isError").asBoolean(), args + " " + r.body());
                NoStackTraces.assertClean(r);
            }
            assertEquals(0, s.notes.count("local:alice"));
            // 1000 emoji are 1000 characters (code points, not UTF-16 units) and 4000 bytes: the most one note may take
            String max = "😀".repeat(1000);
            McpTestServer.Res ok = s.callTool("alice-token", "notes_add", Json.MAPPER.writeValueAsString(Map.of("text", max)));
            assertFalse(ok.json().path("result").path("isError").asBoolean(), ok.body());
            assertEquals(1, s.notes.count("local:alice"));
            // one more byte is refused, in words: the limit is in bytes as well as in characters
            McpTestServer.Res tooBig = s.callTool("alice-token", "notes_add", Json.MAPPER.writeValueAsString(Map.of("text", max + "x")));
            assertTrue(tooBig.json().path("result").path("isError").asBoolean(), tooBig.body());
            assertTrue(tooBig.body().contains("4000 are allowed"), tooBig.body());
            assertEquals(1, s.notes.count("local:alice"));
        }
    }

    @Test
    void storeKeepsUsersApartAndEnforcesLimits() {
        try (FileStore store = FileStore.open(dir.resolve("s"))) {
            Notes notes = new Notes(FileStores.notes(store));
            Instant t = Instant.parse("2026-01-01T00:00:00Z");
            NoteRecord.Note n = notes.add("u1", "hello", t);
            assertEquals(1, n.id());
            assertEquals(t, n.createdAt());
            assertEquals(List.of(), notes.list("u2"));
            assertEquals(List.of(), notes.list(null));
            assertThrows(Notes.Refused.class, () -> notes.add("u1", "", t));
            assertThrows(Notes.Refused.class, () -> notes.add("u1", "x".repeat(Notes.MAX_TEXT + 1), t));
            for (int i = 1; i < Notes.MAX_NOTES; i++) notes.add("u3", "n" + i, t);
            notes.add("u3", "last", t);
            Notes.Refused full = assertThrows(Notes.Refused.class, () -> notes.add("u3", "one too many", t));
            assertTrue(full.getMessage().contains(String.valueOf(Notes.MAX_NOTES)));
            assertEquals(Notes.MAX_NOTES, notes.count("u3"));
            assertEquals(Notes.MAX_NOTES, notes.removeAll("u3"));
            assertEquals(0, notes.count("u3"));
            assertEquals(1, notes.count("u1"));
        }
    }

    @Test
    void addingANoteAppendsThatUsersRecordAndRewritesNobodyElses() throws Exception {
        Path d = dir.resolve("journal");
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        try (FileStore store = FileStore.open(d)) {
            Notes notes = new Notes(FileStores.notes(store));
            notes.add("bob", "x".repeat(1000), t);
            byte[] snapshot = Files.readAllBytes(d.resolve(FileStores.NOTES));
            long before = journalBytes(d);
            notes.add("alice", "a short one", t);
            assertArrayEquals(snapshot, Files.readAllBytes(d.resolve(FileStores.NOTES)), "the snapshot is not rewritten per note");
            long appended = journalBytes(d) - before;
            assertTrue(appended > 0 && appended < 500, "only alice's record was appended, not bob's 1000 characters: " + appended + " bytes");
        }
        try (FileStore store = FileStore.open(d)) {
            Notes notes = new Notes(FileStores.notes(store));
            assertEquals(1, notes.count("alice"));
            assertEquals(1, notes.count("bob"));
        }
    }

    private static long journalBytes(Path d) throws Exception {
        try (var s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().startsWith(FileStores.NOTES + ".journal-")).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
