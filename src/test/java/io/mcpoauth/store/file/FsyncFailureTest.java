package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.core.Secrets;
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
import java.util.Set;
import java.util.TreeSet;
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
 * acknowledged), nothing of it stays (not in memory, not on disk: the file holds the committed records), the store
 * reports unhealthy, and the next commit rewrites the whole file from the committed records and makes it healthy again.
 */
class FsyncFailureTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofHours(1);

    @TempDir
    Path dir;

    /** The whole-file rewrite (every snapshot file), failing at each of its steps. */
    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"WRITE_AND_SYNC", "LINK_PREV", "RENAME", "SYNC_DIR"})
    void aFailedWriteChangesNothingAndTheNextCommitRewritesEverything(Op failing) throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        Path file = dir.resolve("things.json");
        Path prev = dir.resolve("things.json" + SnapshotWriter.PREV_SUFFIX);
        SnapshotFormat format = new SnapshotFormat();
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(m, "a", "1");
            put(m, "b", "2");
            byte[] before = Files.readAllBytes(file);

            ops.hook = (op, p) -> {
                if (op == failing) throw new IOException("injected: Input/output error");
            };
            StoreException e = assertThrows(StoreException.class, () -> put(m, "c", "3"));
            assertTrue(e.unavailable(), "a failed write is 'unavailable' (the request answers 5xx)");
            assertTrue(e.getMessage().contains("things.json") && e.getMessage().contains("injected: Input/output error")
                    && e.getMessage().contains("nothing was changed"), e.getMessage());
            assertFalse(store.healthy());
            assertTrue(store.stats().failures() >= 1);
            assertTrue(store.stats().rolledBackChanges() >= 1);

            assertNull(m.get("c"), "the refused change is not visible");
            assertEquals(2, m.size());
            assertEquals(Set.of("a", "b"), keys(format.decode(Files.readAllBytes(file), "things")),
                    "the file holds the committed records (after a failed directory fsync the renamed file was replaced again)");
            if (failing != Op.SYNC_DIR) assertArrayEquals(before, Files.readAllBytes(file), "the old file is intact, byte for byte");
            assertTrue(Files.exists(prev), "a previous generation is always there");
            format.decode(Files.readAllBytes(prev), "things");
            assertEquals(List.of(), temps(), "no temp file is left behind");
            StoreException again = assertThrows(StoreException.class, () -> put(m, "d", "4"));
            assertTrue(again.unavailable());
            assertNull(m.get("d"));

            ops.hook = (op, p) -> {};
            ops.clear();
            put(m, "e", "5");
            assertEquals(Op.WRITE_AND_SYNC, ops.calls().get(0).op(), "recovery writes a new file, it does not just retry the fsync");
            assertTrue(store.healthy(), "a successful commit makes the store healthy again");
            assertEquals(Set.of("a", "b", "e"), keys(format.decode(Files.readAllBytes(file), "things")));
        }
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals(3, m.size());
            assertNull(m.get("c"), "a refused write is not there after a restart either");
            assertNull(m.get("d"));
        }
    }

    /**
     * Refresh tokens through the real store, whichever way their file is made durable (whole-file rewrite, or a
     * journal append and fdatasync): every durable step fails, then works again.
     */
    @Test
    void aFailedRotationIsRolledBackAndTheClientsRetryRotatesExactlyOnce() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        String aToken, aFamily, successor;
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

            assertEquals(1, tokens.size(), "bob's family was refused: it does not exist");
            assertEquals(0, tokens.get(aFamily).rotations(), "alice's refused rotation was rolled back");
            assertTrue(Secrets.hash(aToken).equals(tokens.get(aFamily).tokenHash()), "the token the client holds is still current");

            ops.hook = (op, p) -> {};
            RefreshTokens.Rotation retry = tokens.rotate(aToken, "client", NOW, f -> {});
            assertEquals(RefreshTokens.Outcome.ROTATED, retry.outcome());
            assertEquals(1, retry.family().rotations(), "the retry does exactly what the first attempt should have done");
            assertTrue(store.healthy());
            successor = retry.refreshToken();
        }
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            assertEquals(1, tokens.size(), "the refused family did not come back");
            assertNotNull(tokens.find(successor, NOW));
            assertEquals(1, tokens.get(aFamily).rotations());
        }
    }

    @Test
    void everyWaiterOfAFailedWriteFailsAndNothingOfThemStays() throws Exception {
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
            assertEquals(1, m.size(), "none of the refused changes is visible");

            ops.hook = (op, p) -> {};
            m.update(tx -> {
                tx.put("after", "v");
                return null;
            });
            assertTrue(store.healthy());
            SnapshotFormat.Decoded d = new SnapshotFormat().decode(Files.readAllBytes(dir.resolve("things.json")), "things");
            assertEquals(Set.of("seed", "after"), keys(d), "the seed and the new change; none of the 8 refused ones");
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    static Set<String> keys(SnapshotFormat.Decoded d) {
        Set<String> out = new TreeSet<>();
        d.records().fieldNames().forEachRemaining(out::add);
        return out;
    }

    private List<Path> temps() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX)).toList();
        }
    }
}
