package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health tells the truth about the store as a whole and recovers by itself; a data directory that was deleted or
 * replaced (or whose lock file was) refuses every write and says so; the lock file is never followed through a link.
 */
class HealthTest {
    private static final Duration TTL = Duration.ofDays(1);
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    private static FileStore.Tuning fastProbe() {
        FileStore.Tuning t = new FileStore.Tuning();
        t.probeMillis = 50;
        return t;
    }

    @Test
    void healthRecoversByItselfOnceTheDiskWorksAgain() throws Exception {
        Path dir = tmp.resolve("data");
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(dir, ops, fastProbe())) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            put(things, "a", "1");
            // disk full, for things.json only
            ops.hook = (op, p) -> {
                if (op == Op.WRITE_AND_SYNC && p.getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX + "things.json")) {
                    throw new IOException("No space left on device");
                }
            };
            assertThrows(StoreException.class, () -> put(things, "b", "2"));
            tokens.create("c", "alice", "mcp", null, true, NOW); // another file still writes...
            FileStore.Health h = store.health();
            assertFalse(h.healthy(), "...but the store as a whole is not healthy: " + h);
            assertTrue(h.problems().stream().anyMatch(p -> p.contains("things.json") && p.contains("No space left on device")), String.valueOf(h));
            assertFalse(store.healthy());

            ops.hook = (op, p) -> { }; // space freed; nobody writes things.json again
            Await.until(Duration.ofSeconds(10), store::healthy, () -> "health did not recover by itself: " + store.health());
            assertEquals(List.of(), store.health().problems());
            assertEquals(java.util.Set.of("a"), FsyncFailureTest.keys(new SnapshotFormat().decode(Files.readAllBytes(dir.resolve("things.json")), "things")),
                    "the probe wrote the committed records; the refused change is not among them");
        }
    }

    @Test
    void aDeletedDataDirectoryRefusesEveryWriteAndSaysSo() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            put(things, "a", "1");
            tokens.create("c", "alice", "mcp", null, true, NOW);
            deleteTree(dir); // rm -rf

            StoreException e = assertThrows(StoreException.class, () -> tokens.create("c", "bob", "mcp", null, true, NOW),
                    "a commit into the deleted journal must not be acknowledged");
            assertTrue(e.unavailable() && e.getMessage().contains("deleted"), e.getMessage());
            StoreException e2 = assertThrows(StoreException.class, () -> put(things, "b", "2"));
            assertTrue(e2.unavailable() && e2.getMessage().contains(dir.toString()), e2.getMessage());
            FileStore.Health h = store.health();
            assertFalse(h.healthy());
            assertTrue(h.problems().stream().anyMatch(p -> p.contains("deleted")), String.valueOf(h));

            Files.createDirectories(dir); // re-created, empty
            assertThrows(StoreException.class, () -> put(things, "c", "3"), "still refused: the lock is gone for good");
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(), s.toList(), "nothing was written into the new directory");
            }
            assertFalse(store.healthy());
        }
    }

    /** The single-instance lock cannot be bypassed by re-creating the directory: the old server stops writing. */
    @Test
    void aServerWhoseDirectoryWasReCreatedNeverWritesIntoTheNewOne() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(things, "a", "1");
            deleteTree(dir);
            Files.createDirectories(dir);
            try (ChildJvm other = ChildJvm.start(tmp.resolve("other.err"), null, "hold", dir.toString())) {
                other.awaitLine(l -> l.startsWith("HELD "), Duration.ofSeconds(60)); // a second server on the new directory
                StoreException e = assertThrows(StoreException.class, () -> put(things, "b", "2"));
                assertTrue(e.unavailable() && (e.getMessage().contains("replaced") || e.getMessage().contains("deleted")), e.getMessage());
                assertFalse(Files.exists(dir.resolve("things.json")), "the old server wrote nothing into the other server's directory");
                store.close();
                try (ChildJvm third = ChildJvm.start(tmp.resolve("third.err"), null, "open", dir.toString())) {
                    String line = third.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
                    assertTrue(line.startsWith("REFUSED"), "closing the old store left the new server's lock alone: " + line);
                }
            }
        }
    }

    @Test
    void aReplacedLockFileRefusesWrites() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(things, "a", "1");
            Files.delete(dir.resolve(DataDirectory.LOCK_FILE));
            Files.writeString(dir.resolve(DataDirectory.LOCK_FILE), "4242\n");
            StoreException e = assertThrows(StoreException.class, () -> put(things, "b", "2"));
            assertTrue(e.unavailable() && e.getMessage().contains("lock file"), e.getMessage());
            assertTrue(store.health().problems().stream().anyMatch(p -> p.contains("lock file")), String.valueOf(store.health()));
        }
    }

    @Test
    void aSymlinkedLockFileIsNeverFollowed() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("data"), FileOps.DIR_ATTR);
        Path victim = Files.writeString(tmp.resolve("precious.txt"), "do not truncate me\n");
        Files.createSymbolicLink(dir.resolve(DataDirectory.LOCK_FILE), victim);
        StoreException e = assertThrows(StoreException.class, () -> FileStore.open(dir));
        assertFalse(e.unavailable());
        assertTrue(e.getMessage().contains("symbolic link") && e.getMessage().contains(DataDirectory.LOCK_FILE), e.getMessage());
        assertNull(DataDirectory.runningServer(dir));
        assertEquals("do not truncate me\n", Files.readString(victim), "the link's target was not touched");
        assertTrue(Files.isSymbolicLink(dir.resolve(DataDirectory.LOCK_FILE)), "the link itself is left for the operator");
    }

    @Test
    void aDataFileDeletedWhileRunningIsWrittenAgainFromMemory() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir, FileOps.POSIX, fastProbe())) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(things, "a", "1");
            put(things, "b", "2");
            Files.delete(dir.resolve("things.json"));
            Files.delete(dir.resolve(Manifest.FILE));
            Await.until(Duration.ofSeconds(10), () -> Files.exists(dir.resolve("things.json")) && Files.exists(dir.resolve(Manifest.FILE))
                    && store.healthy(), () -> "not rewritten: " + store.health());
            assertEquals(java.util.Set.of("a", "b"), FsyncFailureTest.keys(new SnapshotFormat().decode(Files.readAllBytes(dir.resolve("things.json")), "things")));
        }
    }

    /** A journal segment deleted under a running server: the next append notices (refused), the one after rewrites everything. */
    @Test
    void aJournalSegmentDeletedWhileRunningLosesNothingAcknowledged() throws Exception {
        Path dir = tmp.resolve("data");
        List<String> acknowledged = new ArrayList<>();
        FileStore s = FileStore.open(dir);
        RefreshTokens tokens = new RefreshTokens(FileStores.grants(s), TTL);
        for (int i = 0; i < 3; i++) acknowledged.add(tokens.create("c", "u" + i, "mcp", null, true, NOW).refreshToken());
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) if (p.getFileName().toString().startsWith(FileStores.REFRESH_TOKENS + Journal.INFIX)) Files.delete(p);
        }
        for (int i = 3; i < 6; i++) {
            try {
                acknowledged.add(tokens.create("c", "u" + i, "mcp", null, true, NOW).refreshToken());
            } catch (StoreException e) {
                assertTrue(e.unavailable() && e.getMessage().contains("deleted"), e.getMessage());
            }
        }
        assertTrue(acknowledged.size() >= 5, "only the first commit after the deletion is refused: " + acknowledged.size());
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens r = new RefreshTokens(FileStores.grants(again), TTL);
            for (String t : acknowledged) assertNotNull(r.find(t, NOW), "an acknowledged family was lost with the deleted segment");
            assertEquals(acknowledged.size(), r.size());
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
