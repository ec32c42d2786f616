package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.file.RecordingFileOps.Call;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shutdown: in-flight commits finish, nothing is written once close() has returned (the lock is gone by then). */
class CloseTest {
    @TempDir
    Path tmp;

    @Test
    void closeLetsInFlightCommitsFinishAndNothingIsWrittenAfterIt() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            for (int round = 0; round < 20; round++) {
                RecordingFileOps ops = new RecordingFileOps();
                Path dir = tmp.resolve("d" + round);
                FileStore store = FileStore.open(dir, ops);
                DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
                put(m, "a", "1");
                CountDownLatch inSync = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                ops.hook = (op, p) -> {
                    if (op == Op.SYNC_DIR && inSync.getCount() > 0) {
                        inSync.countDown();
                        try {
                            release.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                };
                Future<?> leader = pool.submit(() -> put(m, "b", "2"));
                assertTrue(inSync.await(10, TimeUnit.SECONDS));
                Future<?> follower = pool.submit(() -> put(m, "c", "3"));
                assertThrows(TimeoutException.class, () -> follower.get(50, TimeUnit.MILLISECONDS));
                Future<Long> closer = pool.submit(() -> {
                    store.close();
                    return ops.clock.incrementAndGet();
                });
                assertThrows(TimeoutException.class, () -> closer.get(50, TimeUnit.MILLISECONDS), "close waits for the write in progress");
                release.countDown();
                leader.get(10, TimeUnit.SECONDS);
                long closedAt = closer.get(10, TimeUnit.SECONDS);
                boolean followerAcknowledged;
                try {
                    follower.get(10, TimeUnit.SECONDS);
                    followerAcknowledged = true;
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof StoreException se && se.unavailable(), String.valueOf(e.getCause()));
                    followerAcknowledged = false;
                }
                for (Call c : ops.calls()) {
                    assertTrue(c.seq() < closedAt, "round " + round + ": " + c.op() + " after close() returned");
                }
                StoreException after = assertThrows(StoreException.class, () -> put(m, "d", "4"));
                assertTrue(after.unavailable());

                try (FileStore reopened = FileStore.open(dir)) {
                    DurableMap<String> again = reopened.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
                    assertEquals("2", again.get("b"));
                    if (followerAcknowledged) assertEquals("3", again.get("c"), "an acknowledged in-flight commit is on disk");
                    assertEquals(null, again.get("d"));
                }
                assertTrue(Files.exists(dir.resolve("things.json")));
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    /** close() must not release the lock while the compactor still writes the snapshot: another server could start writing. */
    @Test
    void closeKeepsTheLockUntilACompactionStillWritingHasEnded() throws Exception {
        Path dir = tmp.resolve("compacting");
        FileStore.Tuning t = new FileStore.Tuning();
        t.minCompactBytes = 1;
        t.closeTimeoutMillis = 200;
        RecordingFileOps ops = new RecordingFileOps();
        CountDownLatch inCompaction = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ops.hook = (op, p) -> {
            if (op == Op.WRITE_AND_SYNC && Thread.currentThread().getName().equals("store-compactor")) {
                inCompaction.countDown();
                try {
                    if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        FileStore store = FileStore.open(dir, ops, t);
        RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), java.time.Duration.ofDays(1));
        java.util.List<String> created = new java.util.ArrayList<>();
        for (int i = 0; i < 200 && inCompaction.getCount() > 0; i++) {
            created.add(tokens.create("c", "u" + i, "mcp", null, true, java.time.Instant.now()).refreshToken());
        }
        assertTrue(inCompaction.await(10, TimeUnit.SECONDS), "a compaction started");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            pool.submit(store::close).get(30, TimeUnit.SECONDS); // returns after its bounded wait
            assertEquals(String.valueOf(ProcessHandle.current().pid()), DataDirectory.runningServer(dir),
                    "the lock is still held while the compactor writes");
            try (ChildJvm other = ChildJvm.start(tmp.resolve("other.err"), null, "open", dir.toString())) {
                String line = other.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), java.time.Duration.ofSeconds(60));
                assertTrue(line.startsWith("REFUSED"), "another server must not start meanwhile: " + line);
            }
            release.countDown();
            Await.until(java.time.Duration.ofSeconds(10), () -> DataDirectory.runningServer(dir) == null, () -> "the lock was never released");
            for (Call c : ops.calls()) assertTrue(c.ok(), "a write failed: " + c);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens r = new RefreshTokens(FileStores.grants(again), java.time.Duration.ofDays(1));
            for (String token : created) assertTrue(r.find(token, java.time.Instant.now()) != null, "lost " + token);
        }
    }
}
