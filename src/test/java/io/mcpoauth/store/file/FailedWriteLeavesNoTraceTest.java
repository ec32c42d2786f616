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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A write that failed leaves no trace: not in memory (readers and later transactions), not on disk (the journal frame
 * is cut off, a renamed snapshot is replaced by the committed one), not after kill -9. The retry of a refused write
 * then does exactly what the first attempt should have done.
 */
class FailedWriteLeavesNoTraceTest {
    private static final Duration TTL = Duration.ofDays(1);
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    private static RecordingFileOps.Hook failing(Op which) {
        return (op, p) -> {
            if (op == which) throw new IOException("injected: Input/output error");
        };
    }

    /** A revocation that failed with 503 answers 200 on retry, really revokes, and the token stays dead after kill -9. */
    @Test
    void aRefusedRevocationIsDoneByItsRetryAndHoldsAfterAKill() {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        RefreshTokens.Issued a = rt.create("c", "alice", "mcp", null, true, NOW);
        String family = a.family().familyId();

        ops.hook = failing(Op.FORCE_DATA);
        StoreException e = assertThrows(StoreException.class, () -> rt.revoke(family));
        assertTrue(e.unavailable(), "503");
        assertNotNull(rt.get(family), "a refused revocation is not visible");
        assertNotNull(rt.find(a.refreshToken(), NOW), "the token still works: the revocation was refused");

        ops.hook = (op, p) -> { };
        assertTrue(rt.revoke(family), "the retry finds the family and revokes it (200), as the first attempt should have");
        assertNull(rt.get(family));
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            assertNull(new RefreshTokens(FileStores.grants(again), TTL).find(a.refreshToken(), NOW), "the revoked token does not work after kill -9");
        }
    }

    /** A revocation that failed and was never retried is not on disk: its frame was cut off, a restart does not replay it. */
    @Test
    void aRefusedRevocationLeavesNoFrameThatARestartCouldReplay() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        RefreshTokens.Issued a = rt.create("c", "alice", "mcp", null, true, NOW);
        Path segment = lastSegment();
        long before = Files.size(segment);

        ops.hook = failing(Op.FORCE_DATA); // the frame is written, its fdatasync fails
        assertThrows(StoreException.class, () -> rt.revoke(a.family().familyId()));
        assertEquals(before, Files.size(segment), "the refused frame was cut off the segment at once");
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            assertNotNull(new RefreshTokens(FileStores.grants(again), TTL).find(a.refreshToken(), NOW), "the refused revocation was not replayed");
        }
    }

    /**
     * A transaction queued behind a failing write, which read that write's state, fails with it; nothing of either
     * is visible, to readers or to later transactions, and nothing of either is there after a restart.
     */
    @ParameterizedTest(name = "journaled={0}")
    @ValueSource(booleans = {false, true})
    void aTransactionThatReadTheFailedStateFailsToo(boolean journaled) throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        DurableMap<String> m = journaled ? s.journaledMap("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE)
                : s.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
        put(m, "seed", "0");
        Op write = journaled ? Op.FORCE_DATA : Op.WRITE_AND_SYNC;
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ops.hook = (op, p) -> {
            if (op != write) return;
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("injected: No space left on device");
        };
        Future<?> first = pool.submit(() -> put(m, "k", "1"));
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the first write is under way");
        CountDownLatch read = new CountDownLatch(1);
        Future<String> second = pool.submit(() -> m.update(tx -> {
            String seen = tx.get("k");
            tx.put("k2", "saw " + seen);
            read.countDown();
            return seen;
        }));
        assertTrue(read.await(10, TimeUnit.SECONDS), "the second transaction ran (and saw the pending change)");
        assertNull(m.get("k"), "a reader does not see a change before it is durable");
        release.countDown();

        ExecutionException e1 = assertThrows(ExecutionException.class, () -> first.get(30, TimeUnit.SECONDS));
        assertTrue(e1.getCause() instanceof StoreException se && se.unavailable()
                && se.getMessage().contains("No space left on device") && se.getMessage().contains("nothing was changed"), String.valueOf(e1.getCause()));
        ExecutionException e2 = assertThrows(ExecutionException.class, () -> second.get(30, TimeUnit.SECONDS),
                "a transaction that read the refused change must not be acknowledged");
        assertTrue(e2.getCause() instanceof StoreException se && se.unavailable() && se.getMessage().contains("nothing was changed"),
                String.valueOf(e2.getCause()));
        assertNull(m.get("k"));
        assertNull(m.get("k2"));
        ops.hook = (op, p) -> { };
        assertNull(m.update(tx -> tx.get("k")), "a later transaction does not see the refused change either");
        put(m, "x", "1");
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            DurableMap<String> r = journaled ? again.journaledMap("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE)
                    : again.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals("0", r.get("seed"));
            assertEquals("1", r.get("x"));
            assertNull(r.get("k"), "the refused change is not on disk");
            assertNull(r.get("k2"));
        }
    }

    /** The rename happened, the directory fsync failed: the refused content is replaced by the committed one at once. */
    @Test
    void aSnapshotWhoseDirectoryFsyncFailedIsReplacedByTheCommittedOne() {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        DurableMap<String> m = s.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
        put(m, "a", "1");
        ops.hook = failing(Op.SYNC_DIR);
        assertThrows(StoreException.class, () -> put(m, "refused", "1"));
        assertFalse(s.healthy());
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            DurableMap<String> r = again.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals("1", r.get("a"));
            assertNull(r.get("refused"), "the refused change is not there after kill -9");
        }
    }

    /** After a failed append, the next commit writes the whole snapshot on a new segment: the failed one is never replayed. */
    @Test
    void afterAFailedAppendTheNextCommitIsAFullSnapshotOnANewSegment() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        RefreshTokens.Issued a = rt.create("c", "alice", "mcp", null, true, NOW);
        Path failedSegment = lastSegment();
        ops.hook = failing(Op.FORCE_DATA);
        assertThrows(StoreException.class, () -> rt.create("c", "bob", "mcp", null, true, NOW));
        ops.hook = (op, p) -> { };
        RefreshTokens.Issued c = rt.create("c", "carol", "mcp", null, true, NOW);
        assertFalse(Files.exists(failedSegment), "the segment that saw the failed append is gone");
        String snapshot = Files.readString(dir.resolve(FileStores.REFRESH_TOKENS));
        assertTrue(snapshot.contains(a.family().familyId()) && snapshot.contains(c.family().familyId()), "a full snapshot was written");
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens r = new RefreshTokens(FileStores.grants(again), TTL);
            assertEquals(2, r.size(), "alice and carol; bob was refused");
        }
    }

    /**
     * Even when cutting the failed frame off fails too (the segment then ends with a refused frame), nothing more is
     * appended there and the next commit writes a snapshot on a new segment: the refused frame is never replayed.
     */
    @Test
    void aFailedFrameThatCannotBeCutOffIsNeverReplayedOnceTheNextCommitSucceeds() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore s = FileStore.open(dir, ops);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        RefreshTokens.Issued a = rt.create("c", "alice", "mcp", null, true, NOW);
        Path segment = lastSegment();
        long before = Files.size(segment);
        ops.hook = (op, p) -> {
            if (op == Op.FORCE_DATA || op == Op.TRUNCATE) throw new IOException("injected: Input/output error");
        };
        assertThrows(StoreException.class, () -> rt.revoke(a.family().familyId()));
        assertTrue(Files.size(segment) > before, "the refused frame is still in the segment (the cut failed)");
        ops.hook = (op, p) -> { };
        RefreshTokens.Issued b = rt.create("c", "bob", "mcp", null, true, NOW);
        assertFalse(Files.exists(segment), "the segment holding the refused frame is gone");
        s.crashForTest();
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens r = new RefreshTokens(FileStores.grants(again), TTL);
            assertNotNull(r.find(a.refreshToken(), NOW), "the refused revocation was not replayed");
            assertNotNull(r.find(b.refreshToken(), NOW));
        }
    }

    private Path lastSegment() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(FileStores.REFRESH_TOKENS + Journal.INFIX))
                    .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring((FileStores.REFRESH_TOKENS + Journal.INFIX).length()))))
                    .orElseThrow();
        }
    }
}
