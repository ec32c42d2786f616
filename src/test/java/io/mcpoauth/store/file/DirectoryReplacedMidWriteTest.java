package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data directory replaced (moved away, an empty one made in its place) after a write checked that the directory
 * is still its own, but before the write touched a file: the check and the write are separate system calls, and a
 * background write (a compaction, the probe's rewrite) may be anywhere between them when an operator swaps the
 * directory. The write must never create anything in the new directory (another server may be using it): it goes on in
 * the server's own directory, wherever that is now, and every later write is refused.
 */
class DirectoryReplacedMidWriteTest {
    @TempDir
    Path tmp;

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** Moves {@code data} aside and makes an empty directory in its place, once, at the first call matching {@code when}. */
    private static RecordingFileOps.Hook swapAt(Op when, String fileNamePart, Path data, Path moved, AtomicBoolean swapped) {
        return (op, p) -> {
            if (op == when && p != null && p.getFileName().toString().contains(fileNamePart) && swapped.compareAndSet(false, true)) {
                try {
                    Files.move(data, moved);
                    Files.createDirectory(data);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    @Test
    void aSnapshotWriteCheckedBeforeTheSwapWritesNothingIntoTheNewDirectory() throws Exception {
        Path data = tmp.resolve("data");
        Path moved = tmp.resolve("data.moved");
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(data, ops)) {
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(things, "a", "1");
            AtomicBoolean swapped = new AtomicBoolean();
            ops.hook = swapAt(Op.WRITE_AND_SYNC, "things.json", data, moved, swapped);
            put(things, "b", "2"); // checked before the swap: written, into the server's own directory
            assertTrue(swapped.get());
            assertEquals(List.of(), list(data), "the server wrote into the directory that replaced its own");
            SnapshotFormat format = new SnapshotFormat();
            assertEquals("2", format.decodeRecords(Files.readAllBytes(moved.resolve("things.json")), "things", String.class, new long[2]).get("b"),
                    "the acknowledged write is in the server's own directory");
            StoreException refused = assertThrows(StoreException.class, () -> put(things, "c", "3"));
            assertTrue(refused.unavailable() && refused.getMessage().contains("replaced"), refused.getMessage());
            assertEquals(List.of(), list(data));
        }
        assertEquals(List.of(), list(data), "nor when it closed");
    }

    @Test
    void aJournalRewriteCheckedBeforeTheSwapWritesNothingIntoTheNewDirectory() throws Exception {
        Path data = tmp.resolve("data");
        Path moved = tmp.resolve("data.moved");
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(data, ops)) {
            DurableMap<String> log = store.journaledMap("log.json", "log", String.class, SnapshotFormat.Layout.ONE_LINE);
            put(log, "a", "1");
            AtomicBoolean swapped = new AtomicBoolean();
            // a full rewrite starts a new segment first, then writes the snapshot naming it
            ops.hook = swapAt(Op.CREATE_SEGMENT, "log.json", data, moved, swapped);
            log.flush();
            assertTrue(swapped.get());
            assertEquals(List.of(), list(data), "the server wrote into the directory that replaced its own");
            assertThrows(StoreException.class, () -> put(log, "b", "2"));
            assertEquals(List.of(), list(data));
        }
        assertEquals(List.of(), list(data), "nor when it closed");
        try (FileStore again = FileStore.open(moved)) {
            DurableMap<String> log = again.journaledMap("log.json", "log", String.class, SnapshotFormat.Layout.ONE_LINE);
            assertEquals("1", log.get("a"), "the server's own directory is whole");
        }
    }
}
