package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per data directory: a second process is refused with the directory and the holder's pid; after the
 * holder is killed with SIGKILL the kernel frees the lock and a new start works. The holders are child processes:
 * within one JVM, closing any channel to {@code .lock} would drop that JVM's POSIX lock.
 */
class SingleWriterTest {
    @TempDir
    Path tmp;

    @Test
    void secondInstanceIsRefusedWithTheHoldersPidUntilTheHolderIsKilled() throws Exception {
        Path dir = tmp.resolve("data");
        long holderPid;
        try (ChildJvm holder = ChildJvm.start(tmp.resolve("holder.err"), null, "hold", dir.toString())) {
            String held = holder.awaitLine(l -> l.startsWith("HELD "), Duration.ofSeconds(60));
            holderPid = holder.pid();
            assertEquals("HELD " + holderPid + " $", held);

            StoreException e = assertThrows(StoreException.class, () -> FileStore.open(dir));
            assertFalse(e.unavailable());
            assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), "names the directory: " + e.getMessage());
            assertTrue(e.getMessage().contains("pid " + holderPid), "names the holder's pid: " + e.getMessage());
            assertEquals(String.valueOf(holderPid), DataDirectory.lockHolder(dir));

            // a second process is refused too, and exits non-zero
            try (ChildJvm second = ChildJvm.start(tmp.resolve("second.err"), null, "open", dir.toString())) {
                String line = second.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
                assertTrue(line.startsWith("REFUSED") && line.contains("pid " + holderPid) && line.contains(dir.toAbsolutePath().toString()), line);
                assertEquals(3, second.awaitExit(Duration.ofSeconds(30)));
            }
            // the refused attempts did not disturb the holder's lock
            assertThrows(StoreException.class, () -> FileStore.open(dir));

            holder.kill(); // SIGKILL: no shutdown hook, no close()
        }
        try (FileStore store = FileStore.open(dir)) {
            assertEquals(String.valueOf(ProcessHandle.current().pid()), DataDirectory.lockHolder(dir), "the new holder recorded its pid");
            assertEquals(0, new RefreshTokens(FileStores.grants(store), Duration.ofHours(1)).size());
        }
    }

    @Test
    void closingTheStoreReleasesTheLockForTheNextProcess() throws Exception {
        Path dir = tmp.resolve("data");
        try (ChildJvm holder = ChildJvm.start(tmp.resolve("holder.err"), null, "hold", dir.toString())) {
            holder.awaitLine(l -> l.startsWith("HELD "), Duration.ofSeconds(60));
            holder.process.getOutputStream().close(); // the child closes its store and exits
            assertEquals(0, holder.awaitExit(Duration.ofSeconds(30)));
        }
        try (FileStore store = FileStore.open(dir)) {
            new RefreshTokens(FileStores.grants(store), Duration.ofHours(1)).create("c", "u", "mcp", null, true, Instant.now());
        }
    }

    /**
     * Within one JVM a second open of the same directory must be refused without releasing the first one's lock:
     * POSIX record locks belong to the process, so closing the refused attempt's channel to {@code .lock} would
     * otherwise drop the lock held through the first channel, and a second process could then open the directory.
     */
    @Test
    void aRefusedSecondOpenInTheSameJvmKeepsTheFirstLock() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore first = FileStore.open(dir)) {
            StoreException e = assertThrows(StoreException.class, () -> FileStore.open(dir));
            assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
            try (ChildJvm other = ChildJvm.start(tmp.resolve("other.err"), null, "open", dir.toString())) {
                String line = other.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
                assertTrue(line.startsWith("REFUSED"), "another process must still be refused, got: " + line);
                assertEquals(3, other.awaitExit(Duration.ofSeconds(30)));
            }
            new RefreshTokens(FileStores.grants(first), Duration.ofHours(1)).create("c", "u", "mcp", null, true, Instant.now());
        }
        // and after the first store is closed, the directory can be opened again in this JVM
        try (FileStore again = FileStore.open(dir)) {
            assertEquals(1, new RefreshTokens(FileStores.grants(again), Duration.ofHours(1)).size());
        }
    }
}
