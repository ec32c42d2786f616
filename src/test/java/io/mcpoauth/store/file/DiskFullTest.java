package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the data directory on a 4 MiB tmpfs, filled up by another file. Refused writes change nothing,
 * acknowledged ones survive, health recovers by itself once the filler is deleted. Skipped where a tmpfs cannot be
 * mounted; disk full is then covered by FileOps injection (FailedWriteLeavesNoTraceTest, HealthTest, FaultRunTest).
 */
class DiskFullTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    @Test
    void aFullDiskRefusesWritesChangesNothingAndHealthRecoversOnceSpaceIsFreed() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(tmp.resolve("mnt"), "4m")) {
            assumeTrue(fs.mounted(), "cannot mount a tmpfs here (" + fs.why + "): disk full is covered by FileOps injection instead");
            Path data = fs.dir.resolve("data");
            FileStore.Tuning t = new FileStore.Tuning();
            t.probeMillis = 50;
            List<String> ackedKeys = new ArrayList<>();
            List<String> refusedKeys = new ArrayList<>();
            List<String> ackedTokens = new ArrayList<>();
            List<String> refusedRotations = new ArrayList<>();
            FileStore store = FileStore.open(data, FileOps.POSIX, t);
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), StoreChild.TTL);
            for (int i = 0; i < 50; i++) {
                put(things, "before-" + i, "x".repeat(100));
                ackedKeys.add("before-" + i);
            }
            String token = tokens.create("c", "alice", "mcp", null, true, NOW).refreshToken();

            Path filler = fs.fill();
            int refused = 0;
            for (int i = 0; i < 20; i++) {
                String k = "during-" + i;
                try {
                    put(things, k, "x".repeat(100));
                    ackedKeys.add(k);
                } catch (StoreException e) {
                    assertTrue(e.unavailable() && e.getMessage().contains("No space left on device"), e.getMessage());
                    refusedKeys.add(k);
                    refused++;
                }
                try {
                    RefreshTokens.Rotation r = tokens.rotate(token, "c", NOW, f -> { });
                    assertEquals(RefreshTokens.Outcome.ROTATED, r.outcome(), "a refused rotation was rolled back: the same token rotates");
                    token = r.refreshToken();
                    ackedTokens.add(token);
                } catch (StoreException e) {
                    assertTrue(e.unavailable(), e.getMessage());
                    refusedRotations.add(token);
                }
            }
            assertTrue(refused > 0, "the full disk refused whole-file writes");
            assertFalse(store.healthy());
            assertTrue(store.health().problems().stream().anyMatch(p -> p.contains("No space left on device")), String.valueOf(store.health()));

            Files.delete(filler);
            Await.until(Duration.ofSeconds(10), store::healthy, () -> "health did not recover after space was freed: " + store.health());
            store.crashForTest();

            try (FileStore again = FileStore.open(data)) {
                DurableMap<String> t2 = again.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
                for (String k : ackedKeys) assertNotNull(t2.get(k), "acknowledged " + k + " is lost");
                for (String k : refusedKeys) assertNull(t2.get(k), "refused " + k + " is there");
                RefreshTokens r = new RefreshTokens(FileStores.grants(again), StoreChild.TTL);
                assertNotNull(r.find(token, NOW), "the newest acknowledged token works");
                assertEquals(ackedTokens.size(), r.get(RefreshTokens.familyIdOf(token)).rotations(), "only acknowledged rotations are on disk");
            }
        }
    }
}
