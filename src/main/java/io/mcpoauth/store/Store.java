package io.mcpoauth.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The JSON file store: one locked data directory holding one file per kind of record. Each file is a
 * {@link DurableMap} with group commit. A file that is damaged at start is moved aside and the start is refused
 * with the recovery command; a missing file is only treated as empty when no trace of an earlier one exists.
 */
public final class Store implements AutoCloseable {
    public static final String RECOVER_COMMAND = "java -jar mcp-oauth-server.jar store recover";
    static final String CORRUPT_INFIX = ".corrupt-";

    private final DataDirectory dir;
    private final FileOps ops;
    private final SnapshotFormat format = new SnapshotFormat();
    private final CommitStats stats = new CommitStats();
    private final List<DurableMap<?>> maps = new CopyOnWriteArrayList<>();

    private Store(DataDirectory dir, FileOps ops) {
        this.dir = dir;
        this.ops = ops;
    }

    public static Store open(Path path) {
        return open(path, FileOps.POSIX);
    }

    public static Store open(Path path, FileOps ops) {
        return new Store(DataDirectory.open(path), ops);
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
        if (!kind.equals(Recovery.kindOf(fileName))) throw new IllegalArgumentException("kind must be the file name without .json");
        Path file = dir.path().resolve(fileName);
        Map<String, V> initial = new LinkedHashMap<>();
        long generation = 0;
        if (Files.exists(file)) {
            try {
                SnapshotFormat.Decoded d = decode(file, kind);
                generation = d.generation();
                for (Iterator<Map.Entry<String, JsonNode>> it = d.records().fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    initial.put(e.getKey(), format.read(e.getValue(), type));
                }
            } catch (SnapshotFormat.Corrupt c) {
                throw refuseDamaged(file, c.getMessage());
            }
        } else {
            List<String> traces = traces(fileName);
            if (!traces.isEmpty()) {
                throw StoreException.refused(fileName + " is missing from " + dir.path() + " although " + String.join(", ", traces)
                        + " exist" + (traces.size() == 1 ? "s" : "") + ". Refusing to start with an empty " + fileName
                        + ". To restore the previous generation run: " + RECOVER_COMMAND);
            }
        }
        DurableMap<V> map = new DurableMap<>(kind, type, new SnapshotWriter(file, ops, format), layout, initial, generation, stats);
        maps.add(map);
        return map;
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
                if (n.equals(fileName + SnapshotWriter.PREV_SUFFIX) || n.startsWith(fileName + CORRUPT_INFIX)) found.add(n);
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

    /** Stops mutations, lets in-flight commits finish (bounded), releases the lock. */
    @Override
    public void close() {
        for (DurableMap<?> m : maps) m.close(5_000);
        dir.close();
    }
}
