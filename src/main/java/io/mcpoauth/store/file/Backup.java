package io.mcpoauth.store.file;

import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code store backup DIR}: a consistent copy of the data directory, taken by the process that holds its lock.
 *
 * <p>Every file this process has open is captured with all of their locks held at once, so the copy shows every file
 * as of one instant (no change is half in). A map holds only committed changes (a change joins it once it is on
 * disk), so the backup never holds a change the live files could still lose, nor one that was refused. Data files this process has not opened (e.g.
 * the command line, with the server stopped, opens none) are copied as they are, after their checksum is verified:
 * nobody else can write them while the lock is held. Other plain files are copied too, except {@code encryption.key}
 * unless asked for: a backup that holds the key next to the ciphertexts it protects gives both away together. Previous
 * generations, damaged copies, the lock and hidden files are not copied.
 *
 * <p>{@code DIR} must be new or empty and outside the data directory; it is created {@code 0700} and every file is
 * written {@code 0600} and fsynced, then the directory, then the parent of every directory created for it. A restore is: stop the server, copy the files into an empty data directory,
 * start.
 */
public final class Backup {
    /** One file of the backup; {@code records} is -1 for a file that holds no records (a key file). */
    public record File(String name, int records, long bytes) {}

    /**
     * What was written where, and the instant the open files were captured; {@code keyLeftOut} when the data directory
     * holds {@code encryption.key} and it was not copied.
     */
    public record Result(Path dir, Instant takenAt, List<File> files, boolean keyLeftOut) {}

    private Backup() {}

    static Result run(FileStore store, List<DurableMap<?>> maps, Path target, SnapshotFormat format, boolean includeKey) {
        Path dataDir = store.dir().toAbsolutePath().normalize();
        FileOps ops = store.ops();
        String gone = store.gone();
        if (gone != null) throw StoreException.unavailable(gone + "; no backup was taken", null);
        List<Path> created = new ArrayList<>();
        Path dir = prepare(target.toAbsolutePath().normalize(), dataDir, created);

        // 1. One instant for every open file: all locks held together (in a fixed order), records copied, released.
        List<DurableMap.Captured<?>> captured = new ArrayList<>();
        Instant takenAt;
        int locked = 0;
        try {
            for (DurableMap<?> m : maps) {
                m.lockForCapture();
                locked++;
            }
            takenAt = Instant.now();
            for (DurableMap<?> m : maps) captured.add(m.captureLocked());
        } finally {
            for (int i = locked - 1; i >= 0; i--) maps.get(i).unlockAfterCapture();
        }
        // 2. What was captured is durable already: a map holds only committed (written) changes.

        Map<String, byte[]> out = new TreeMap<>();
        Map<String, Integer> records = new LinkedHashMap<>();
        Set<String> open = new HashSet<>();
        for (DurableMap.Captured<?> c : captured) {
            String name = c.map().file().getFileName().toString();
            open.add(name);
            @SuppressWarnings({"unchecked", "rawtypes"})
            List<Map.Entry<String, ?>> entries = (List) c.records();
            out.put(name, format.encode(c.map().kind(), c.generation(), entries, c.map().layout()));
            records.put(name, entries.size());
        }
        // 3. Everything else worth keeping, verified.
        boolean keyLeftOut = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.equals(EncryptionKeys.KEY_FILE) && !includeKey) {
                    keyLeftOut = true;
                    continue;
                }
                if (open.contains(name) || ofOpenFile(name, open) || !included(name) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                byte[] bytes = ops.readFile(f);
                if (name.endsWith(".json")) {
                    try {
                        SnapshotFormat.Decoded d = format.decode(bytes, Recovery.kindOf(name));
                        records.put(name, d.records().size());
                    } catch (SnapshotFormat.Corrupt e) {
                        throw StoreException.refused(name + " is damaged (" + e.getMessage() + "); nothing was backed up. Run: "
                                + "java -jar mcp-oauth-server.jar store check");
                    }
                }
                out.put(name, bytes);
            }
        } catch (IOException e) {
            throw StoreException.refused("Cannot read the data directory " + dataDir + ": " + DataDirectory.describe(e));
        }
        // 4. Write: new files, 0600, fsynced, then the directory, then the parent of every directory created (so the
        //    backup directory itself survives a power cut, not only its files).
        List<Path> written = new ArrayList<>();
        List<File> result = new ArrayList<>();
        try {
            for (Map.Entry<String, byte[]> e : out.entrySet()) {
                Path p = dir.resolve(e.getKey());
                ops.writeNewAndSync(p, e.getValue());
                written.add(p);
                result.add(new File(e.getKey(), records.getOrDefault(e.getKey(), -1), e.getValue().length));
            }
            ops.syncDirectory(dir);
            if (created.isEmpty() && dir.getParent() != null) ops.syncDirectory(dir.getParent());
            for (int i = created.size() - 1; i >= 0; i--) {
                Path parent = created.get(i).getParent();
                if (parent != null) ops.syncDirectory(parent);
            }
        } catch (IOException e) {
            for (Path p : written) {
                try {
                    ops.deleteIfExists(p);
                } catch (IOException ignored) {
                    // reported below
                }
            }
            throw StoreException.refused("Cannot write the backup to " + dir + ": " + DataDirectory.describe(e) + "; nothing was kept.");
        }
        return new Result(dir, takenAt, List.copyOf(result), keyLeftOut);
    }

    /** Companions of a file written from memory ({@code <name>.prev}, {@code <name>.journal-<n>}...): its snapshot replaces them. */
    private static boolean ofOpenFile(String name, Set<String> open) {
        for (String o : open) {
            if (name.startsWith(o + ".")) return true;
        }
        return false;
    }

    /** Data files and plain files; not previous generations, damaged copies, temp files, the lock or hidden files. */
    static boolean included(String name) {
        return !name.startsWith(".") && !name.endsWith(SnapshotWriter.PREV_SUFFIX) && !name.contains(FileStore.CORRUPT_INFIX);
    }

    /** Makes {@code dir} usable; every directory it creates is added to {@code created}, outermost first. */
    private static Path prepare(Path dir, Path dataDir, List<Path> created) {
        if (dir.startsWith(dataDir) || dataDir.startsWith(dir)) {
            throw StoreException.refused("The backup directory " + dir + " must be outside the data directory " + dataDir + ".");
        }
        try {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw StoreException.refused("The backup directory " + dir + " exists and is not a directory.");
                }
                try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                    if (s.iterator().hasNext()) {
                        throw StoreException.refused("The backup directory " + dir + " is not empty; give a new or empty directory.");
                    }
                }
                Files.setPosixFilePermissions(dir, FileOps.DIR_MODE);
            } else {
                List<Path> missing = new ArrayList<>();
                for (Path p = dir.getParent(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) missing.add(0, p);
                for (Path p : missing) {
                    Files.createDirectory(p);
                    created.add(p);
                }
                Files.createDirectory(dir, FileOps.DIR_ATTR);
                created.add(dir);
            }
        } catch (IOException e) {
            throw StoreException.refused("Cannot use " + dir + " for the backup: " + DataDirectory.describe(e));
        }
        return dir;
    }
}
