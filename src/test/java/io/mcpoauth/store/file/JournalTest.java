package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal behind refresh_tokens.json: appends, torn tails, damage, compaction and the final snapshot. */
class JournalTest {
    private static final Duration TTL = Duration.ofDays(30);

    @TempDir
    Path dir;

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(FileStores.REFRESH_TOKENS + Journal.INFIX)).sorted().toList();
        }
    }

    /** Creates families and rotates them; returns the latest refresh token of each. Leaves the store open. */
    private List<String> work(RefreshTokens rt, int families, int rotations) {
        Instant now = Instant.now();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < families; i++) tokens.add(rt.create("c", "local:u" + i, "mcp", "r", true, now).refreshToken());
        for (int r = 0; r < rotations; r++) {
            for (int i = 0; i < families; i++) {
                RefreshTokens.Rotation rot = rt.rotate(tokens.get(i), "c", now, f -> { });
                assertEquals(RefreshTokens.Outcome.ROTATED, rot.outcome());
                tokens.set(i, rot.refreshToken());
            }
        }
        return tokens;
    }

    private static void assertAllWork(RefreshTokens rt, List<String> tokens) {
        for (String t : tokens) assertNotNull(rt.find(t, Instant.now()), "token of a family is lost");
    }

    @Test
    void commitsAppendToTheJournalAndAfterKillTheyAreReplayed() throws IOException {
        FileStore s = FileStore.open(dir);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        List<String> tokens = work(rt, 20, 3);
        String snapshot = Files.readString(dir.resolve(FileStores.REFRESH_TOKENS));
        assertTrue(snapshot.contains("\"journal_from\": 1"), snapshot);
        assertTrue(Files.size(segments().get(0)) > 0, "the rotations are in the journal");
        // No close(): as after kill -9. A second open in this JVM would see our own lock, so release it only.
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt2 = new RefreshTokens(FileStores.grants(again), TTL);
            assertEquals(20, rt2.size());
            assertAllWork(rt2, tokens);
        }
    }

    @Test
    void aTornTailIsCutOffAndEverythingBeforeItKept() throws IOException {
        FileStore s = FileStore.open(dir);
        List<String> tokens = work(new RefreshTokens(FileStores.grants(s), TTL), 5, 2);
        s.crashForTest();
        Path seg = segments().get(segments().size() - 1);
        long size = Files.size(seg);
        Files.write(seg, new byte[] {0, 0, 1, 0, 1, 2, 3}, StandardOpenOption.APPEND); // half a frame header and body
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(again), TTL);
            assertAllWork(rt, tokens);
        }
        assertTrue(Files.notExists(seg) || Files.size(seg) == size, "the torn bytes were cut off");
    }

    @Test
    void damageInTheMiddleRefusesTheStart() throws IOException {
        FileStore s = FileStore.open(dir);
        work(new RefreshTokens(FileStores.grants(s), TTL), 5, 3);
        s.crashForTest();
        Path seg = segments().get(0);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'X'}), 20); // inside the first frame's payload
        }
        StoreException e = assertThrows(StoreException.class, () -> {
            try (FileStore again = FileStore.open(dir)) {
                new RefreshTokens(FileStores.grants(again), TTL);
            }
        });
        assertTrue(e.getMessage().contains("journal") && e.getMessage().contains("store recover"), e.getMessage());
    }

    @Test
    void storeCheckReportsJournalDamageAndRecoverKeepsEveryFrameThatCanBeRead() throws IOException {
        FileStore s = FileStore.open(dir);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        List<String> early = work(rt, 3, 0);
        long goodLength = Files.size(segments().get(0));
        List<String> later = work(rt, 3, 2);
        s.crashForTest();
        Path seg = segments().get(0);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'X'}), goodLength + 20); // inside the first frame after the early ones
        }
        byte[] damaged = Files.readAllBytes(seg);
        Recovery recovery = new Recovery();
        Recovery.FileState st = recovery.check(dir).stream().filter(f -> f.name().equals(FileStores.REFRESH_TOKENS)).findFirst().orElseThrow();
        assertTrue(!st.ok() && st.problem().startsWith("journal damaged:"), String.valueOf(st));
        List<String> lines = new ArrayList<>();
        assertEquals(List.of(), recovery.recover(dir, List.of(), lines::add));
        assertTrue(lines.stream().anyMatch(l -> l.contains("dropped")), String.valueOf(lines));
        Path copy;
        try (Stream<Path> files = Files.list(dir)) {
            copy = files.filter(p -> p.getFileName().toString().startsWith(seg.getFileName() + FileStore.CORRUPT_INFIX)).findFirst().orElseThrow();
        }
        assertArrayEquals(damaged, Files.readAllBytes(copy), "a copy of the damaged bytes is kept");
        assertTrue(recovery.check(dir).stream().allMatch(Recovery.FileState::ok), String.valueOf(recovery.check(dir)));
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt2 = new RefreshTokens(FileStores.grants(again), TTL);
            assertAllWork(rt2, early);
            assertAllWork(rt2, later); // their later rotations (full records, after the damaged frame) were kept
        }
    }

    @Test
    void closeWritesAFinalSnapshotSoTheNextStartReadsNoJournal() throws IOException {
        List<String> tokens;
        try (FileStore s = FileStore.open(dir)) {
            tokens = work(new RefreshTokens(FileStores.grants(s), TTL), 10, 2);
        }
        for (Path p : segments()) assertEquals(0, Files.size(p), p + " should be empty after a clean stop");
        String snapshot = Files.readString(dir.resolve(FileStores.REFRESH_TOKENS));
        for (String t : tokens) {
            String family = RefreshTokens.familyIdOf(t);
            assertTrue(snapshot.contains("\"" + family + "\""), "the snapshot holds every family");
        }
        try (FileStore s = FileStore.open(dir)) {
            assertAllWork(new RefreshTokens(FileStores.grants(s), TTL), tokens);
        }
    }

    @Test
    void compactionRewritesTheSnapshotAndDropsOlderSegmentsWhileCommitsContinue() throws Exception {
        FileStore s = FileStore.open(dir);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        // about 700 bytes per rotation: 20,000 rotations pass the 8 MiB threshold at least once
        List<String> tokens = work(rt, 200, 100);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (segments().size() > 1 || !Files.readString(dir.resolve(FileStores.REFRESH_TOKENS)).contains("\"journal_from\": " + segmentNumber(segments().get(0)))) {
            if (System.nanoTime() > deadline) throw new AssertionError("no compaction happened: " + segments());
            Thread.onSpinWait();
            Thread.yield();
        }
        assertTrue(segmentNumber(segments().get(0)) > 1, "older segments were deleted");
        tokens = new ArrayList<>(tokens);
        List<String> more = work(rt, 1, 1);
        tokens.addAll(more);
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt2 = new RefreshTokens(FileStores.grants(again), TTL);
            assertEquals(201, rt2.size());
            assertAllWork(rt2, tokens);
        }
    }

    private static long segmentNumber(Path p) {
        String n = p.getFileName().toString();
        return Long.parseLong(n.substring(n.lastIndexOf('-') + 1));
    }

    @Test
    void removalsAreJournaledToo() throws IOException {
        FileStore s = FileStore.open(dir);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        List<String> tokens = work(rt, 3, 1);
        assertTrue(rt.revoke(RefreshTokens.familyIdOf(tokens.get(1))));
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt2 = new RefreshTokens(FileStores.grants(again), TTL);
            assertEquals(2, rt2.size());
            assertNull(rt2.find(tokens.get(1), Instant.now()));
        }
    }

    @Test
    void segmentsWithoutTheirSnapshotRefuseTheStart() throws IOException {
        try (FileStore s = FileStore.open(dir)) {
            work(new RefreshTokens(FileStores.grants(s), TTL), 2, 1);
        }
        Files.delete(dir.resolve(FileStores.REFRESH_TOKENS));
        Files.deleteIfExists(dir.resolve(FileStores.REFRESH_TOKENS + ".prev"));
        StoreException e = assertThrows(StoreException.class, () -> {
            try (FileStore again = FileStore.open(dir)) {
                new RefreshTokens(FileStores.grants(again), TTL);
            }
        });
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertNotNull(new TreeMap<>());
    }

    /**
     * The directory fsync after creating a new segment fails: that commit is refused, and the next ones work (the
     * segment number is not reused for a file that already exists, which made every later commit fail until a restart).
     */
    @Test
    void aFailedDirectoryFsyncAfterANewSegmentDoesNotMakeEveryLaterCommitFail() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        List<String> tokens = new ArrayList<>(work(rt, 2, 0));
        RecordingFileOps.Op[] last = {null};
        boolean[] armed = {true};
        // the directory fsync that follows the segment's creation (not the one after a snapshot's rename)
        ops.hook = (op, p) -> {
            RecordingFileOps.Op before = last[0];
            last[0] = op;
            if (op == RecordingFileOps.Op.SYNC_DIR && before != RecordingFileOps.Op.RENAME && before != null && armed[0]) {
                armed[0] = false;
                throw new IOException("injected: Input/output error");
            }
        };
        assertThrows(StoreException.class, () -> s.maps().stream().filter(m -> m.kind().equals("refresh_tokens")).findFirst().orElseThrow().flush(),
                "a full rewrite starts a new segment");
        assertTrue(!armed[0], "the failure was injected");
        ops.hook = (op, p) -> { };
        for (int i = 0; i < 3; i++) tokens.addAll(work(rt, 1, 1)); // every later commit works
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            assertAllWork(new RefreshTokens(FileStores.grants(again), TTL), tokens);
        }
    }
}
