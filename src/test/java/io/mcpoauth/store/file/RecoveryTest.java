package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The way back from a refused start: {@code store check} and {@code store recover} (the command the refusal names). */
class RecoveryTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofDays(30);

    @TempDir
    Path dir;

    @Test
    void recoverRestoresThePreviousGenerationAndListsEveryFamilyItBringsBack() throws Exception {
        String a, b, a1, a2;
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            a = tokens.create("c", "alice", "mcp", null, true, T0).refreshToken();
            b = tokens.create("c", "bob", "mcp", null, true, T0).refreshToken();
            a1 = tokens.rotate(a, "c", T0, f -> {}).refreshToken();
        }
        try (FileStore store = FileStore.open(dir)) { // a later session: the file written at the end of the first is now .prev
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            a2 = tokens.rotate(a1, "c", T0, f -> {}).refreshToken();
        }
        Path file = dir.resolve(FileStores.REFRESH_TOKENS);
        Files.write(file, CorruptFileTest.flipInsideAHash(Files.readAllBytes(file)));
        try (FileStore store = FileStore.open(dir)) {
            assertThrows(StoreException.class, () -> new RefreshTokens(FileStores.grants(store), TTL));
        }

        List<Recovery.FileState> states = new Recovery().check(dir);
        Recovery.FileState st = states.stream().filter(s -> s.name().equals(FileStores.REFRESH_TOKENS)).findFirst().orElseThrow();
        assertFalse(st.ok());
        assertTrue(st.previousUsable());

        List<String> report = new ArrayList<>();
        assertEquals(List.of(), new Recovery().recover(dir, List.of(), report::add));
        String all = String.join("\n", report);
        assertTrue(all.contains("restored the previous generation (2 records)"), all);
        assertEquals(2, report.stream().filter(l -> l.contains("restored refresh-token family")).count(), "one line per family:\n" + all);
        assertTrue(all.contains(RefreshTokens.familyIdOf(a)) && all.contains(RefreshTokens.familyIdOf(b)), all);

        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            assertEquals(2, tokens.size());
            // the price of going back a generation, which is why recovery is the operator's explicit choice:
            assertNotNull(tokens.find(a1, T0), "the token rotated away in the lost generation works again");
            assertNull(tokens.find(a2, T0), "its successor from the lost generation does not");
            assertNotNull(tokens.find(b, T0));
        }
        assertTrue(new Recovery().check(dir).stream().allMatch(Recovery.FileState::ok));
    }

    @Test
    void withoutAPreviousGenerationRecoverNeedsAnExplicitDiscard() throws Exception {
        try (FileStore store = FileStore.open(dir)) {
            FileStores.clients(store).put(new ClientRecord("c1", "Client", List.of("http://127.0.0.1/cb"), null, null, "none", null, null, null,
                    null, T0, null, null, null));
        }
        Files.write(dir.resolve(FileStores.CLIENTS), new byte[0]);
        Files.write(dir.resolve(FileStores.CLIENTS + SnapshotWriter.PREV_SUFFIX), new byte[0]); // no usable previous generation either
        List<String> report = new ArrayList<>();
        assertEquals(List.of(FileStores.CLIENTS), new Recovery().recover(dir, List.of(), report::add));
        assertTrue(String.join("\n", report).contains("--discard " + FileStores.CLIENTS), String.join("\n", report));
        try (FileStore store = FileStore.open(dir)) {
            assertThrows(StoreException.class, () -> FileStores.clients(store), "still refused: nothing was restored");
        }

        assertEquals(List.of(), new Recovery().recover(dir, List.of(FileStores.CLIENTS), report::add));
        try (FileStore store = FileStore.open(dir)) {
            assertEquals(0, FileStores.clients(store).count(), "started empty, as the operator asked");
        }
    }

    @Test
    void recoverIsRefusedWhileTheStoreIsOpen(@TempDir Path scratch) throws Exception {
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            tokens.create("c", "alice", "mcp", null, true, T0);
            StoreException e = assertThrows(StoreException.class, () -> new Recovery().recover(dir, List.of(), l -> {}));
            assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
            tokens.create("c", "bob", "mcp", null, true, T0); // the open store still works
            try (ChildJvm other = ChildJvm.start(scratch.resolve("other.err"), null, "open", dir.toString())) {
                String line = other.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
                assertTrue(line.startsWith("REFUSED"), "the refused recover did not release the lock: " + line);
            }
        }
    }

    /**
     * Damage in the middle of the journal: store recover keeps every frame that can be read (here the revocation after
     * the damaged frame) and lists, family by family, whose state goes back (here the rotation in the damaged frame).
     */
    @Test
    void recoverAfterJournalDamageListsEveryFamilyWhoseStateGoesBack() throws Exception {
        String a, b;
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            a = tokens.create("c", "alice", "mcp", null, true, T0).refreshToken();
            b = tokens.create("c", "bob", "mcp", null, true, T0).refreshToken();
        }
        FileStore store = FileStore.open(dir);
        RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
        Path seg;
        try (var files = Files.list(dir)) {
            seg = files.filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(FileStores.REFRESH_TOKENS + Journal.INFIX) + "\\d+"))
                    .max(java.util.Comparator.comparing(Path::toString)).orElseThrow();
        }
        long before = Files.size(seg);
        String a1 = tokens.rotate(a, "c", T0, f -> { }).refreshToken();
        assertTrue(tokens.revoke(RefreshTokens.familyIdOf(b)));
        store.crashForTest();
        byte[] bytes = Files.readAllBytes(seg);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("token_hash\":\"", (int) before) + 14; // inside the rotation's frame, which comes first
        bytes[at] ^= 0x01;
        Files.write(seg, bytes);

        List<String> report = new ArrayList<>();
        assertEquals(List.of(), new Recovery().recover(dir, List.of(), report::add));
        String all = String.join("\n", report);
        assertTrue(report.stream().anyMatch(l -> l.contains(RefreshTokens.familyIdOf(a)) && l.contains("earlier state")),
                "alice's family, whose rotation was in the damaged frame, is listed:\n" + all);
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens r = new RefreshTokens(FileStores.grants(again), TTL);
            assertNotNull(r.find(a, T0), "alice is back to the token before the lost rotation (as listed)");
            assertNull(r.find(a1, T0));
            assertNull(r.get(RefreshTokens.familyIdOf(b)), "bob's revocation, after the damage, was kept");
        }
    }
}
