package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever the disk does, a caller of {@link DurableMap#update} gets an answer within the commit timeout, and
 * {@link FileStore#close} returns within its own: a write that hangs (an fsync that never returns), an Error thrown
 * in the middle of a write, a compaction that hangs while switching journal segments. The write hangs on a
 * {@link RecordingFileOps} hook until the test releases it.
 */
class BoundedWaitTest {
    private static final Duration BOUND = Duration.ofSeconds(10); // far above the timeouts below: a hang, not slowness

    @TempDir
    Path tmp;

    private static FileStore.Tuning quick() {
        FileStore.Tuning t = new FileStore.Tuning();
        t.commitTimeoutMillis = 300;
        t.closeTimeoutMillis = 300;
        t.probeMillis = 60_000; // no probe unless a test asks for one
        return t;
    }

    /** Blocks the first {@code op} on a thread named {@code thread*} until released. */
    private static final class Hang implements RecordingFileOps.Hook {
        final Op op;
        final String thread;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicReference<String> on = new AtomicReference<>();
        private final AtomicBoolean armed = new AtomicBoolean(true);

        Hang(Op op, String thread) {
            this.op = op;
            this.thread = thread;
        }

        @Override
        public void before(Op o, Path a) {
            if (o != op || !Thread.currentThread().getName().startsWith(thread) || !armed.compareAndSet(true, false)) return;
            on.set(Thread.currentThread().getName());
            reached.countDown();
            try {
                if (!release.await(60, TimeUnit.SECONDS)) throw new AssertionError("never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void writersGetAnAnswerWithinTheCommitTimeoutWhileAWriteHangsAndTheHungWriteStillCounts() throws Exception {
        Path dir = tmp.resolve("data");
        RecordingFileOps ops = new RecordingFileOps();
        ExecutorService callers = Executors.newCachedThreadPool();
        Hang hang = new Hang(Op.SYNC_DIR, "store-writer");
        try (FileStore store = FileStore.open(dir, ops, quick())) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(m, "a", "1");
            ops.hook = hang;
            Future<?> inTheHungWrite = callers.submit(() -> put(m, "b", "2"));
            assertTrue(hang.reached.await(10, TimeUnit.SECONDS));
            Future<?> queuedBehindIt = callers.submit(() -> put(m, "c", "3"));

            StoreException first = cause(assertThrows(ExecutionException.class, () -> inTheHungWrite.get(BOUND.toSeconds(), TimeUnit.SECONDS)));
            assertTrue(first.unavailable() && first.getMessage().contains("may still be made durable"), first.getMessage());
            StoreException second = cause(assertThrows(ExecutionException.class, () -> queuedBehindIt.get(BOUND.toSeconds(), TimeUnit.SECONDS)));
            assertTrue(second.unavailable() && second.getMessage().contains("nothing was changed"), second.getMessage());
            StoreException third = assertThrows(StoreException.class, () -> assertTimeoutPreemptively(BOUND, () -> put(m, "d", "4")));
            assertTrue(third.getMessage().contains("(the disk may hang); nothing was changed"), "refused at once while it hangs: " + third.getMessage());
            assertFalse(store.healthy());
            assertTrue(String.valueOf(store.health()).contains("has not finished"), String.valueOf(store.health()));
            assertEquals("store-writer", hang.on.get(), "the write runs on a writer thread, not on the caller's");

            hang.release.countDown(); // the disk comes back: the hung write completes
            Await.until(BOUND, () -> "2".equals(m.get("b")), () -> "the write that hung was not applied once it completed");
            Await.until(BOUND, store::healthy, () -> String.valueOf(store.health()));
            put(m, "e", "5");
            assertNull(m.get("c"), "a refused change is not applied");
            assertNull(m.get("d"));
        } finally {
            hang.release.countDown();
            callers.shutdownNow();
        }
        try (FileStore again = FileStore.open(dir)) {
            DurableMap<String> m = again.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals("2", m.get("b"));
            assertEquals("5", m.get("e"));
            assertNull(m.get("c"));
        }
    }

    @Test
    void anErrorThrownInAWriteFailsThatWriteInsteadOfBlockingEveryLaterOne() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(tmp.resolve("data"), ops, quick())) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            DurableMap<String> log = store.journaledMap("log.json", "log", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(m, "a", "1");
            put(log, "a", "1");
            AtomicBoolean once = new AtomicBoolean(true);
            ops.hook = (op, p) -> {
                if ((op == Op.WRITE_AND_SYNC || op == Op.FORCE_DATA) && once.getAndSet(false)) throw new StackOverflowError("injected"); // an Error, not an IOException
            };
            StoreException e = assertThrows(StoreException.class, () -> assertTimeoutPreemptively(BOUND, () -> put(m, "b", "2")));
            assertTrue(e.unavailable() && e.getMessage().contains("StackOverflowError") && e.getMessage().contains("nothing was changed"), e.getMessage());
            assertTimeoutPreemptively(BOUND, () -> put(m, "c", "3"), "the next write is not blocked by the one that threw");
            assertNull(m.get("b"));
            assertEquals("3", m.get("c"));

            once.set(true);
            StoreException j = assertThrows(StoreException.class, () -> assertTimeoutPreemptively(BOUND, () -> put(log, "b", "2")));
            assertTrue(j.unavailable(), j.getMessage());
            assertTimeoutPreemptively(BOUND, () -> put(log, "c", "3"));
            assertNull(log.get("b"));
            assertTrue(store.healthy(), String.valueOf(store.health()));
        }
    }

    /**
     * A compaction switches the journal to a new segment (a file created, the directory fsynced). Done under the map's
     * lock, one that hangs there would block every writer and close() on that lock, with no timeout.
     */
    @Test
    void aCompactionThatHangsSwitchingSegmentsBlocksNeitherWritersNorClose() throws Exception {
        Path dir = tmp.resolve("data");
        RecordingFileOps ops = new RecordingFileOps();
        FileStore.Tuning t = quick();
        t.minCompactBytes = 1; // a compaction once the journal is twice the size of the snapshot
        Hang hang = new Hang(Op.CREATE_SEGMENT, "store-compactor");
        ops.hook = hang;
        FileStore store = FileStore.open(dir, ops, t);
        try {
            DurableMap<String> log = store.journaledMap("log.json", "log", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(log, "a", "1");
            for (int i = 0; i < 500 && hang.reached.getCount() > 0; i++) {
                try {
                    put(log, "k" + i, "x".repeat(100)); // until the journal has grown enough for a compaction
                } catch (StoreException e) {
                    break; // the compaction started meanwhile
                }
            }
            assertTrue(hang.reached.await(10, TimeUnit.SECONDS), "a compaction started");
            StoreException e = assertThrows(StoreException.class, () -> assertTimeoutPreemptively(BOUND, () -> put(log, "b", "2")));
            assertTrue(e.unavailable() && e.getMessage().contains("nothing was changed"), e.getMessage());
            assertNull(log.get("b"));
            assertTimeoutPreemptively(BOUND, store::close, "close() returns (keeping the lock while the compaction runs)");
            assertEquals(String.valueOf(ProcessHandle.current().pid()), DataDirectory.runningServer(dir),
                    "the lock is kept while the compaction still writes");
        } finally {
            hang.release.countDown();
            store.close();
        }
        Await.until(BOUND, () -> DataDirectory.runningServer(dir) == null, () -> "the lock was never released");
        try (FileStore again = FileStore.open(dir)) {
            DurableMap<String> log = again.journaledMap("log.json", "log", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals("1", log.get("a"));
            assertNull(log.get("b"));
        }
    }

    private static StoreException cause(ExecutionException e) {
        if (e.getCause() instanceof StoreException se) return se;
        throw new AssertionError("not a StoreException", e.getCause());
    }
}
