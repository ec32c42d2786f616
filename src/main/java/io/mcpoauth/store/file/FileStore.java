package io.mcpoauth.store.file;

import io.mcpoauth.store.CommitStats;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON file store: one locked data directory holding one file per kind of record. Each file is a
 * {@link DurableMap} with group commit. A file that is damaged at start is moved aside and the start is refused
 * with the recovery command; a missing file is only treated as empty when no trace of an earlier one exists.
 */
public final class FileStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileStore.class);
    public static final String RECOVER_COMMAND = "java -jar mcp-oauth-server.jar store recover";
    static final String CORRUPT_INFIX = ".corrupt-";

    private final DataDirectory dir;
    private final FileOps ops;
    private final SnapshotFormat format = new SnapshotFormat();
    private final CommitStats stats = new CommitStats();
    private final List<DurableMap<?>> maps = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.ExecutorService compactor = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "store-compactor");
        t.setDaemon(true);
        return t;
    });

    private FileStore(DataDirectory dir, FileOps ops) {
        this.dir = dir;
        this.ops = ops;
    }

    public static FileStore open(Path path) {
        return open(path, FileOps.POSIX);
    }

    public static FileStore open(Path path, FileOps ops) {
        return new FileStore(DataDirectory.open(path), ops);
    }

    public Path dir() {
        return dir.path();
    }

    public CommitStats stats() {
        return stats;
    }

    /** True while every file's last write succeeded. */
    public boolean healthy() {
        for (DurableMap<?> m : maps) {
            if (!m.healthy()) return false;
        }
        return true;
    }

    public List<DurableMap<?>> maps() {
        return List.copyOf(maps);
    }

    /**
     * Loads {@code fileName} (or starts it empty when it never existed) as a map of {@code type} records.
     *
     * @throws StoreException (refused) when the file is damaged, newer than this version, or missing after damage
     */
    public <V> DurableMap<V> map(String fileName, String kind, Class<V> type, SnapshotFormat.Layout layout) {
        Loaded<V> l = load(fileName, kind, type);
        DurableMap<V> map = new DurableMap<>(kind, type, new SnapshotWriter(l.file, ops, format), layout, l.records, l.generation, stats);
        maps.add(map);
        return map;
    }

    /**
     * Like {@link #map} but commits append to a journal next to the file ({@code <file>.journal-<n>}), and the file is
     * rewritten as a snapshot in the background once the journal has grown. For files that change on every request.
     */
    public <V> DurableMap<V> journaledMap(String fileName, String kind, Class<V> type, SnapshotFormat.Layout layout) {
        Loaded<V> l = load(fileName, kind, type);
        SnapshotWriter writer = new SnapshotWriter(l.file, ops, format);
        Journal journal = new Journal(l.file, ops);
        try {
            long next;
            if (!l.existed) {
                next = 1;
                writer.write(kind, 0, List.of(), layout, next);
            } else {
                long from = Math.max(1, l.journalFrom);
                JournalCodec<V> codec = new JournalCodec<>(type);
                SnapshotFormat.Corrupt[] bad = {null};
                long cut;
                try {
                    cut = journal.replay(from, true, frame -> {
                        if (bad[0] != null) return;
                        try {
                            codec.apply(frame, l.records, format);
                        } catch (SnapshotFormat.Corrupt c) {
                            bad[0] = c;
                        }
                    });
                } catch (Journal.Damaged d) {
                    throw refuseJournal(fileName, d.getMessage());
                }
                if (bad[0] != null) throw refuseJournal(fileName, bad[0].getMessage());
                if (cut > 0) {
                    LOG.warn("Cut off an unfinished write ({} bytes) at the end of the journal of {}: a commit that was never acknowledged",
                            cut, fileName);
                }
                journal.deleteBefore(from);
                java.util.TreeMap<Long, Path> segs = journal.segments();
                next = Math.max(from, segs.isEmpty() ? from : segs.lastKey() + 1);
            }
            journal.startSegment(next);
        } catch (IOException e) {
            journal.close();
            throw StoreException.refused("Cannot open the journal of " + l.file + ": " + DataDirectory.describe(e));
        }
        long size;
        try {
            size = Files.size(l.file);
        } catch (IOException e) {
            size = 0;
        }
        long compactBytes = Math.max(8L << 20, 2 * size);
        DurableMap<V> map = new DurableMap<>(kind, type, writer, layout, l.records, l.generation, stats, journal, compactor, compactBytes);
        maps.add(map);
        return map;
    }

    private record Loaded<V>(Path file, Map<String, V> records, long generation, long journalFrom, boolean existed) {}

    private <V> Loaded<V> load(String fileName, String kind, Class<V> type) {
        if (!kind.equals(Recovery.kindOf(fileName))) throw new IllegalArgumentException("kind must be the file name without .json");
        for (DurableMap<?> m : maps) {
            if (m.file().getFileName().toString().equals(fileName)) {
                throw new IllegalStateException(fileName + " is already open in this store: two maps would overwrite each other's writes");
            }
        }
        Path file = dir.path().resolve(fileName);
        Map<String, V> initial = new HashMap<>();
        if (Files.exists(file)) {
            try {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (IOException e) {
                    throw new SnapshotFormat.Corrupt("it cannot be read: " + DataDirectory.describe(e));
                }
                long[] generationAndJournal = new long[2];
                initial = format.decodeRecords(bytes, kind, type, generationAndJournal);
                return new Loaded<>(file, initial, generationAndJournal[0], generationAndJournal[1], true);
            } catch (SnapshotFormat.NewerFormat n) {
                throw StoreException.refused(file + " cannot be read: " + n.getMessage() + ". The file was left as it is."
                        + " Run the newer version of mcp-oauth-server, or start this one on a backup it wrote.");
            } catch (SnapshotFormat.Corrupt c) {
                throw refuseDamaged(file, c.getMessage());
            }
        }
        List<String> traces = traces(fileName);
        if (!traces.isEmpty()) {
            throw StoreException.refused(fileName + " is missing from " + dir.path() + " although " + String.join(", ", traces)
                    + " exist" + (traces.size() == 1 ? "s" : "") + ". Refusing to start with an empty " + fileName
                    + ". To restore the previous generation run: " + RECOVER_COMMAND);
        }
        return new Loaded<>(file, initial, 0, 0, false);
    }

    private StoreException refuseJournal(String fileName, String reason) {
        return StoreException.refused("The journal of " + dir.path().resolve(fileName) + " is damaged: " + reason
                + ". The server will not start without the changes recorded after that point. To keep everything before the"
                + " damage and drop what follows it (the sign-ins concerned will have to be repeated), run: " + RECOVER_COMMAND);
    }

    SnapshotFormat.Decoded decode(Path file, String kind) throws SnapshotFormat.Corrupt {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SnapshotFormat.Corrupt("it cannot be read: " + DataDirectory.describe(e));
        }
        return format.decode(bytes, kind);
    }

    private StoreException refuseDamaged(Path file, String reason) {
        String name = file.getFileName().toString();
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        Path aside = file.resolveSibling(name + CORRUPT_INFIX + stamp);
        String moved;
        try {
            Files.move(file, aside);
            moved = "It was moved aside to " + aside.getFileName() + ". ";
        } catch (IOException e) {
            moved = "";
        }
        Path prev = file.resolveSibling(name + SnapshotWriter.PREV_SUFFIX);
        String next = Files.exists(prev)
                ? "To restore the previous generation (" + prev.getFileName() + ") run: " + RECOVER_COMMAND
                + " (it lists every refresh-token family it brings back)."
                : "No previous generation exists: restore " + name + " from a backup, or run " + RECOVER_COMMAND
                + " --discard " + name + " to start it empty.";
        return StoreException.refused(dir.path().resolve(name) + " is damaged: " + reason + ". " + moved
                + "The server will not start over it with empty data. " + next);
    }

    private List<String> traces(String fileName) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir.path(), fileName + "*")) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.equals(fileName + SnapshotWriter.PREV_SUFFIX) || n.startsWith(fileName + CORRUPT_INFIX)
                        || n.startsWith(fileName + Journal.INFIX)) {
                    found.add(n);
                }
            }
        } catch (IOException e) {
            throw StoreException.refused("Cannot list " + dir.path() + ": " + DataDirectory.describe(e));
        }
        found.sort(null);
        return found;
    }

    /**
     * Writes a consistent copy of the data directory into {@code target} (new or empty, outside the data directory):
     * every open file as of one instant, the others verified and copied. See {@link Backup}.
     *
     * @throws StoreException (refused) when the target is unusable or a file is damaged; (unavailable) when a change
     *                        could not be made durable first
     */
    public Backup.Result backup(Path target) {
        return Backup.run(this, maps(), target, format);
    }

    /**
     * For tests in this package: behave like a process killed with SIGKILL (no final snapshot, no flush), but in the
     * same JVM: stop the background compaction, drop open files and release the lock.
     */
    void crashForTest() {
        compactor.shutdownNow();
        try {
            compactor.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (DurableMap<?> m : maps) m.abandon();
        dir.close();
    }

    /** Stops mutations, lets in-flight commits finish (bounded), releases the lock. */
    @Override
    public void close() {
        for (DurableMap<?> m : maps) m.close(5_000);
        compactor.shutdownNow();
        dir.close();
    }
}
