package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.Sweeper;
import io.mcpoauth.store.file.RecordingFileOps.Call;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-safe rewrite, observed through a recording {@link FileOps}: new temp file (0600) written and fsynced ->
 * current file kept as .prev -> atomic rename -> directory fsync -> only then does {@code update} return.
 */
class WriteOrderTest {
    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    void eachCommitWritesSyncsLinksRenamesAndSyncsTheDirectoryBeforeReturning() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            Path file = store.dir().resolve("things.json");
            // opening a new file writes its first, empty generation (so .manifest can list it), linked as .prev too
            List<Call> created = ops.calls().stream().filter(c -> c.a() != null && c.a().getFileName().toString().contains("things.json")).toList();
            assertEquals(List.of(Op.WRITE_AND_SYNC, Op.LINK_PREV, Op.RENAME), ops(created), "the first generation is kept as .prev from the start");
            assertEquals(created.get(0).a(), created.get(1).b(), ".prev links the new temp file before it is renamed into place");
            assertEquals(0, new SnapshotFormat().decode(Files.readAllBytes(store.dir().resolve("things.json.prev")), "things").records().size());

            ops.clear();
            put(m, "a", "1");
            List<Call> first = ops.calls();
            assertEquals(List.of(Op.WRITE_AND_SYNC, Op.LINK_PREV, Op.RENAME, Op.SYNC_DIR), ops(first));
            byte[] firstBytes = Files.readAllBytes(file);

            ops.clear();
            put(m, "b", "2");
            long returned = ops.clock.incrementAndGet();
            List<Call> calls = ops.calls();
            assertEquals(List.of(Op.WRITE_AND_SYNC, Op.LINK_PREV, Op.RENAME, Op.SYNC_DIR), ops(calls));
            Call write = calls.get(0), link = calls.get(1), rename = calls.get(2), sync = calls.get(3);

            Path tmp = write.a();
            assertEquals(store.dir(), tmp.getParent(), "the temp file is in the same directory (rename stays atomic)");
            assertTrue(tmp.getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX));
            assertEquals("rw-------", write.mode(), "the temp file is created 0600");
            assertEquals(store.dir().resolve("things.json.prev"), link.a());
            assertEquals(file, link.b());
            assertEquals(tmp, rename.a());
            assertEquals(file, rename.b());
            assertEquals(store.dir(), sync.a());
            assertTrue(sync.seq() < returned, "update returned after the directory fsync");

            assertArrayEquals(write.bytes(), Files.readAllBytes(file), "the file holds exactly what was fsynced");
            assertArrayEquals(firstBytes, Files.readAllBytes(store.dir().resolve("things.json.prev")), ".prev is the previous generation");
            SnapshotFormat.Decoded d = new SnapshotFormat().decode(write.bytes(), "things");
            assertTrue(d.records().has("a") && d.records().has("b"));
            assertFalse(Files.exists(tmp));
        }
    }

    @Test
    void updateWaitsWhileTheDirectoryFsyncIsInProgress() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(m, "a", "1");

            CountDownLatch inSync = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ops.hook = (op, p) -> {
                if (op == Op.SYNC_DIR && inSync.getCount() > 0) {
                    inSync.countDown();
                    try {
                        if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            Future<Long> leader = pool.submit(() -> {
                put(m, "b", "2");
                return ops.clock.incrementAndGet();
            });
            assertTrue(inSync.await(10, TimeUnit.SECONDS), "the write reached the directory fsync");
            // the renamed file is already visible, but nothing may be acknowledged until the directory fsync returns
            assertTrue(new SnapshotFormat().decode(Files.readAllBytes(store.dir().resolve("things.json")), "things").records().has("b"));
            assertThrows(TimeoutException.class, () -> leader.get(300, TimeUnit.MILLISECONDS), "update returned before fsync(dir)");

            // a second writer arriving meanwhile waits for its own, later, write
            Future<Long> follower = pool.submit(() -> {
                put(m, "c", "3");
                return ops.clock.incrementAndGet();
            });
            assertThrows(TimeoutException.class, () -> follower.get(300, TimeUnit.MILLISECONDS), "a follower returned while the leader was still syncing");

            release.countDown();
            long leaderReturned = leader.get(10, TimeUnit.SECONDS);
            long followerReturned = follower.get(10, TimeUnit.SECONDS);
            List<Call> syncs = ops.calls().stream().filter(c -> c.op() == Op.SYNC_DIR).toList();
            Call blocked = syncs.get(1); // [0] belongs to the write of "a"
            assertTrue(blocked.seq() < leaderReturned);
            List<Call> writes = ops.calls().stream().filter(c -> c.op() == Op.WRITE_AND_SYNC).toList();
            Call followerWrite = writes.stream().filter(w -> contains(w, "c")).findFirst().orElseThrow();
            Call followerSync = syncs.stream().filter(s -> s.seq() > followerWrite.seq()).findFirst().orElseThrow();
            assertTrue(followerSync.seq() < followerReturned, "the follower returned only after the fsync of a write containing its change");
            assertEquals("3", m.get("c"));
        }
    }

    @Test
    void groupCommitAcknowledgesEachChangeOnlyAfterASyncedSnapshotContainsIt() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        int threads = 16, perThread = 40;
        Map<String, Long> returnedAt = new ConcurrentHashMap<>();
        try (FileStore store = FileStore.open(dir, ops)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            ops.clear(); // the first, empty generation and .manifest
            List<Future<?>> fs = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int tt = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        String key = "k" + tt + "-" + i;
                        put(m, key, "v");
                        returnedAt.put(key, ops.clock.incrementAndGet());
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
        }
        List<Call> calls = ops.calls();
        // writes never overlap: the calls form groups [write, (link), rename, syncdir] one after another
        List<Call[]> groups = new ArrayList<>(); // {write, sync}
        for (int i = 0; i < calls.size(); ) {
            Call w = calls.get(i);
            assertEquals(Op.WRITE_AND_SYNC, w.op(), "a commit starts with the temp file at call " + i);
            int j = i + 1;
            if (calls.get(j).op() == Op.LINK_PREV) j++;
            assertEquals(Op.RENAME, calls.get(j).op());
            assertEquals(Op.SYNC_DIR, calls.get(j + 1).op());
            groups.add(new Call[] {w, calls.get(j + 1)});
            i = j + 2;
        }
        assertEquals(threads * perThread, returnedAt.size());
        assertTrue(groups.size() < threads * perThread, "concurrent updates share writes (" + groups.size() + " writes)");
        SnapshotFormat format = new SnapshotFormat();
        for (Map.Entry<String, Long> e : returnedAt.entrySet()) {
            boolean covered = false;
            for (Call[] g : groups) {
                if (g[1].seq() > e.getValue()) break;
                if (format.decode(g[0].bytes(), "things").records().has(e.getKey())) {
                    covered = true;
                    break;
                }
            }
            assertTrue(covered, e.getKey() + " was acknowledged before any synced snapshot contained it");
        }
    }

    /** Journal mode (refresh_tokens.json): a rotation is acknowledged only after the fdatasync of its frame. */
    @Test
    void aJournaledRotationWaitsForTheFdatasyncOfItsFrame() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(dir, ops)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), Duration.ofHours(1));
            String t0 = tokens.create("c", "u", "mcp", null, true, Instant.now()).refreshToken();
            Path segment;
            try (var s = Files.list(store.dir())) {
                segment = s.filter(p -> p.getFileName().toString().startsWith(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + Journal.INFIX))
                        .max(java.util.Comparator.comparing(Path::toString)).orElseThrow();
            }
            long before = Files.size(segment);
            CountDownLatch inForce = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ops.hook = (op, p) -> {
                if (op == Op.FORCE_DATA && inForce.getCount() > 0) {
                    inForce.countDown();
                    try {
                        if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            Future<Long> rotation = pool.submit(() -> {
                assertEquals(RefreshTokens.Outcome.ROTATED, tokens.rotate(t0, "c", Instant.now(), f -> {}).outcome());
                return ops.clock.incrementAndGet();
            });
            assertTrue(inForce.await(10, TimeUnit.SECONDS), "the commit reached the fdatasync of the journal");
            assertTrue(Files.size(segment) > before, "the frame is written...");
            assertThrows(TimeoutException.class, () -> rotation.get(300, TimeUnit.MILLISECONDS), "...but not acknowledged before fdatasync");
            release.countDown();
            long returned = rotation.get(10, TimeUnit.SECONDS);
            Call force = ops.calls().stream().filter(c -> c.op() == Op.FORCE_DATA).reduce((x, y) -> y).orElseThrow();
            assertTrue(force.ok() && force.seq() < returned);
        }
    }

    @Test
    void sweeperEvictionsGoThroughTheSameCommitPath() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
        try (FileStore store = FileStore.open(dir, ops)) {
            ClientStore clients = FileStores.clients(store);
            clients.put(new ClientRecord("stale", "never used", List.of("http://127.0.0.1/cb"), null, null, "none", null, null, null, null,
                    t0, null, null, null));
            clients.put(new ClientRecord("fresh", "new", List.of("http://127.0.0.1/cb"), null, null, "none", null, null, null, null,
                    t0.plus(Duration.ofDays(6)), null, null, null));
            ops.clear();
            Sweeper sweeper = new Sweeper(List.of(Sweeper.Task.of("clients", now -> clients.removeUnusedCreatedBefore(now.minus(Duration.ofDays(7))).size())),
                    Clock.fixed(t0.plus(Duration.ofDays(8)), ZoneOffset.UTC));
            assertEquals(Map.of("clients", 1), sweeper.runOnce());
            long returned = ops.clock.incrementAndGet();
            List<Call> calls = ops.calls();
            assertEquals(List.of(Op.WRITE_AND_SYNC, Op.LINK_PREV, Op.RENAME, Op.SYNC_DIR), ops(calls));
            assertTrue(calls.get(3).seq() < returned);
            SnapshotFormat.Decoded d = new SnapshotFormat().decode(calls.get(0).bytes(), "clients");
            assertNull(d.records().get("stale"));
            assertNotNull(d.records().get("fresh"));
        }
    }

    @Test
    void expiredRefreshFamiliesSweptAreGoneAfterARestart() throws Exception {
        Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
        String expired, live;
        try (FileStore store = FileStore.open(dir)) {
            GrantStore grants = FileStores.grants(store);
            RefreshTokens tokens = new RefreshTokens(grants, Duration.ofMinutes(5));
            expired = tokens.create("c", "u", "mcp", null, true, t0).refreshToken();
            live = tokens.create("c", "u", "mcp", null, true, t0.plus(Duration.ofMinutes(4))).refreshToken();
            Sweeper sweeper = new Sweeper(List.of(Sweeper.Task.of("refresh_tokens", now -> grants.removeExpired(now, 100).size())),
                    Clock.fixed(t0.plus(Duration.ofMinutes(6)), ZoneOffset.UTC));
            assertEquals(Map.of("refresh_tokens", 1), sweeper.runOnce());
        }
        try (FileStore store = FileStore.open(dir)) {
            GrantStore grants = FileStores.grants(store);
            RefreshTokens tokens = new RefreshTokens(grants, Duration.ofMinutes(5));
            assertNull(tokens.get(RefreshTokens.familyIdOf(expired)));
            assertNotNull(tokens.get(RefreshTokens.familyIdOf(live)));
        }
    }

    private static boolean contains(Call write, String key) {
        if (!write.a().getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX + "things.json")) return false; // .manifest
        try {
            return new SnapshotFormat().decode(write.bytes(), "things").records().has(key);
        } catch (SnapshotFormat.Corrupt e) {
            throw new AssertionError(e);
        }
    }

    private static List<Op> ops(List<Call> calls) {
        return calls.stream().map(Call::op).toList();
    }
}
