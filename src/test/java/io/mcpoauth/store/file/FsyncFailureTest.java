package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A write that fails (EIO from fsync, a failed rename...): the request fails as unavailable (a 5xx, nothing
 * acknowledged), the file on disk is the old one, the store reports unhealthy, and the next commit rewrites the
 * whole file from memory (including the change of the failed request) and makes the store healthy again.
 */
class FsyncFailureTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofHours(1);

    @TempDir
    Path dir;

    /** The whole-file rewrite (every snapshot file), failing at each of its steps. */
    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"WRITE_AND_SYNC", "LINK_PREV", "RENAME", "SYNC_DIR"})
    void failedWriteIsNotAcknowledgedAndTheNextCommitRewritesEverything(Op failing) throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        Path file = dir.resolve("things.json");
        Path prev = dir.resolve("things.json" + SnapshotWriter.PREV_SUFFIX);
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(m, "a", "1");
            put(m, "b", "2"); // a second write, so .prev exists too
            byte[] before = Files.readAllBytes(file);
            byte[] prevBefore = Files.readAllBytes(prev);

            ops.hook = (op, p) -> {
                if (op == failing) throw new IOException("injected: Input/output error");
            };
            StoreException e = assertThrows(StoreException.class, () -> put(m, "c", "3"));
            assertTrue(e.unavailable(), "a failed write is 'unavailable' (the request answers 5xx)");
            assertFalse(store.healthy());
            assertTrue(store.stats().failures() >= 1);

            if (failing == Op.SYNC_DIR) {
                // the rename happened before the directory fsync failed: the new file is in place but was never
                // acknowledged (either content is allowed after a crash); the previous generation is intact
                assertArrayEquals(before, Files.readAllBytes(prev), "the old file is intact as .prev");
                new SnapshotFormat().decode(Files.readAllBytes(file), "things");
            } else {
                assertArrayEquals(before, Files.readAllBytes(file), "the old file is intact");
                // .prev is the generation before (write failed) or the current one (linked just before the rename failed)
                if (failing == Op.WRITE_AND_SYNC) assertArrayEquals(prevBefore, Files.readAllBytes(prev));
                if (failing == Op.RENAME) assertArrayEquals(before, Files.readAllBytes(prev));
            }
            assertEquals(List.of(), temps(), "no temp file is left behind");
            assertEquals("3", m.get("c"), "the change stays in memory");
            StoreException again = assertThrows(StoreException.class, () -> put(m, "d", "4"));
            assertTrue(again.unavailable());

            ops.hook = (op, p) -> {};
            ops.clear();
            put(m, "e", "5");
            assertEquals(Op.WRITE_AND_SYNC, ops.calls().get(0).op(), "recovery writes a new file, it does not just retry the fsync");
            assertTrue(store.healthy(), "a successful commit makes the store healthy again");
            SnapshotFormat.Decoded d = new SnapshotFormat().decode(Files.readAllBytes(file), "things");
            assertEquals(5, d.records().size(), "the changes of the failed requests, kept in memory, are now written: " + d.records());
        }
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals(5, m.size());
        }
    }

    /**
     * Refresh tokens through the real store, whichever way their file is made durable (whole-file rewrite, or a
     * journal append and fdatasync): every durable step fails, then works again.
     */
    @Test
    void aFailedRotationIsNotAcknowledgedAndTheClientsRetryWorksOnceTheDiskRecovers() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        String aToken, aFamily, bobFamily;
        try (FileStore store = FileStore.open(dir, ops)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            RefreshTokens.Issued a = tokens.create("client", "alice", "mcp", null, true, NOW);
            aToken = a.refreshToken();
            aFamily = a.family().familyId();

            ops.hook = (op, p) -> {
                if (op == Op.WRITE_AND_SYNC || op == Op.FORCE_DATA || op == Op.SYNC_DIR) throw new IOException("injected: Input/output error");
            };
            StoreException e = assertThrows(StoreException.class, () -> tokens.create("client", "bob", "mcp", null, true, NOW));
            assertTrue(e.unavailable());
            assertFalse(store.healthy());
            String held = aToken;
            StoreException r = assertThrows(StoreException.class, () -> tokens.rotate(held, "client", NOW, f -> {}));
            assertTrue(r.unavailable(), "the rotation is not acknowledged: the client keeps its token");

            // kept in memory: bob's family exists, alice's family was rotated (its successor never reached the client)
            assertEquals(2, tokens.size());
            bobFamily = tokens.all().stream().filter(f -> f.userId().equals("bob")).findFirst().orElseThrow().familyId();
            assertEquals(1, tokens.get(aFamily).rotations());

            ops.hook = (op, p) -> {};
            // the client retries with the token it holds (now "previous"): it rotates again and is made durable
            RefreshTokens.Rotation retry = tokens.rotate(aToken, "client", NOW, f -> {});
            assertEquals(RefreshTokens.Outcome.ROTATED, retry.outcome());
            assertTrue(store.healthy());
            aToken = retry.refreshToken();
        }
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            assertEquals(2, tokens.size(), "the change of the failed request, kept in memory, was written by the next commit");
            assertNotNull(tokens.get(bobFamily));
            assertNotNull(tokens.find(aToken, NOW));
            assertEquals(2, tokens.get(aFamily).rotations());
        }
    }

    @Test
    void everyWaiterOfAFailedWriteFailsAndNoneIsAcknowledged() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            m.update(tx -> {
                tx.put("seed", "v");
                return null;
            });
            byte[] before = Files.readAllBytes(dir.resolve("things.json"));
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ops.hook = (op, p) -> {
                if (op != Op.SYNC_DIR && op != Op.WRITE_AND_SYNC) return;
                if (op == Op.WRITE_AND_SYNC) {
                    entered.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                throw new IOException("injected: fsync failed");
            };
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String key = "k" + i;
                fs.add(pool.submit(() -> m.update(tx -> {
                    tx.put(key, "v");
                    return null;
                })));
            }
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            release.countDown();
            for (Future<?> f : fs) {
                ExecutionException ex = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertTrue(ex.getCause() instanceof StoreException se && se.unavailable(), "unavailable, got " + ex.getCause());
            }
            assertFalse(store.healthy());
            assertArrayEquals(before, Files.readAllBytes(dir.resolve("things.json")));

            ops.hook = (op, p) -> {};
            m.update(tx -> {
                tx.put("after", "v");
                return null;
            });
            assertTrue(store.healthy());
            SnapshotFormat.Decoded d = new SnapshotFormat().decode(Files.readAllBytes(dir.resolve("things.json")), "things");
            assertEquals(10, d.records().size(), "seed, the 8 failed changes kept in memory, and the new one");
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    private List<Path> temps() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX)).toList();
        }
    }
}
