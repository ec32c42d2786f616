package io.mcpoauth.store.file;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * {@code store check} and {@code store recover}: verify every data file, and bring back the previous generation of a
 * damaged or missing one. Restoring an older generation can bring back refresh tokens that were rotated or revoked
 * since, so every restored refresh-token family is reported.
 */
public final class Recovery {
    private static final String SUFFIX = ".json";
    private final SnapshotFormat format = new SnapshotFormat();

    /** The state of one data file. */
    public record FileState(String name, boolean ok, String problem, boolean previousUsable, int records) {}

    /** Checks every data file in {@code dir} without taking the lock (safe while the server runs: files are renamed into place). */
    public List<FileState> check(Path dir) throws IOException {
        List<FileState> out = new ArrayList<>();
        for (String name : dataFiles(dir)) out.add(state(dir, name));
        return out;
    }

    /**
     * Restores damaged or missing files from their previous generation, holding the lock.
     *
     * @param discard file names the operator chose to start empty when no usable previous generation exists
     * @param report  receives one line per action, and one per restored refresh-token family
     * @return the names that could not be recovered
     */
    public List<String> recover(Path dirPath, List<String> discard, Consumer<String> report) throws IOException {
        List<String> failed = new ArrayList<>();
        try (DataDirectory dir = DataDirectory.open(dirPath)) {
            Path d = dir.path();
            for (String name : dataFiles(d)) {
                FileState st = state(d, name);
                if (st.ok()) {
                    report.accept(name + ": intact (" + st.records() + " records)");
                    continue;
                }
                Path file = d.resolve(name);
                if (st.problem() != null && st.problem().startsWith("its journal is damaged")) {
                    Journal journal = new Journal(file, FileOps.POSIX);
                    try {
                        SnapshotFormat.Decoded snap = format.decode(read(file), kindOf(name));
                        journal.replay(Math.max(1, snap.journalSegment()), false, frame -> { });
                    } catch (Journal.Damaged damaged) {
                        long dropped = journal.truncateAt(damaged);
                        report.accept(name + ": " + st.problem() + "; kept everything before the damage and dropped " + dropped
                                + " bytes after it. Sign-ins rotated after that point are lost: those clients will ask their users to sign in again.");
                        continue;
                    } catch (SnapshotFormat.Corrupt impossible) {
                        // state() decoded it a moment ago
                    }
                }
                SnapshotWriter writer = new SnapshotWriter(file, FileOps.POSIX, format);
                if (Files.exists(file)) {
                    Path aside = file.resolveSibling(name + FileStore.CORRUPT_INFIX + System.currentTimeMillis());
                    Files.move(file, aside);
                    report.accept(name + ": damaged (" + st.problem() + "); moved aside to " + aside.getFileName());
                }
                Path prev = d.resolve(name + SnapshotWriter.PREV_SUFFIX);
                if (st.previousUsable()) {
                    byte[] bytes = Files.readAllBytes(prev);
                    SnapshotFormat.Decoded decoded = decodeQuietly(bytes);
                    writer.writeBytes(bytes);
                    report.accept(name + ": restored the previous generation (" + decoded.records().size() + " records)");
                    if (name.equals(FileStores.REFRESH_TOKENS)) reportFamilies(decoded, report);
                } else if (discard.contains(name)) {
                    writer.writeBytes(format.encode(kindOf(name), 1, List.<Map.Entry<String, ?>>of(), SnapshotFormat.Layout.INDENTED));
                    report.accept(name + ": no usable previous generation; started empty as requested (--discard)");
                } else {
                    report.accept(name + ": no usable previous generation. Restore it from a backup, or run "
                            + FileStore.RECOVER_COMMAND + " --discard " + name + " to start it empty.");
                    failed.add(name);
                }
            }
        }
        return failed;
    }

    private void reportFamilies(SnapshotFormat.Decoded decoded, Consumer<String> report) {
        for (Iterator<Map.Entry<String, JsonNode>> it = decoded.records().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            report.accept("  restored refresh-token family " + e.getKey() + " (client " + e.getValue().path("client_id").asText("?")
                    + ", user " + e.getValue().path("user_id").asText("?") + "): tokens rotated since this generation work again"
                    + "; revoke the family if in doubt");
        }
    }

    private FileState state(Path dir, String name) {
        Path file = dir.resolve(name);
        Path prev = dir.resolve(name + SnapshotWriter.PREV_SUFFIX);
        boolean prevOk = Files.exists(prev) && decodeQuietly(read(prev)) != null;
        if (!Files.exists(file)) return new FileState(name, false, "missing", prevOk, 0);
        SnapshotFormat.Decoded d;
        try {
            d = format.decode(read(file), kindOf(name));
        } catch (SnapshotFormat.Corrupt c) {
            return new FileState(name, false, c.getMessage(), prevOk, 0);
        }
        try {
            new Journal(file, FileOps.POSIX).replay(Math.max(1, d.journalSegment()), false, frame -> { });
        } catch (Journal.Damaged e) {
            return new FileState(name, false, "its journal is damaged: " + e.getMessage(), prevOk, d.records().size());
        } catch (IOException e) {
            return new FileState(name, false, "its journal cannot be read: " + DataDirectory.describe(e), prevOk, d.records().size());
        }
        return new FileState(name, true, null, prevOk, d.records().size());
    }

    private SnapshotFormat.Decoded decodeQuietly(byte[] bytes) {
        try {
            return bytes == null ? null : format.decode(bytes, null);
        } catch (SnapshotFormat.Corrupt c) {
            return null;
        }
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** Every data file name that exists, or has a previous generation or a damaged copy, in {@code dir}. */
    static List<String> dataFiles(Path dir) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) continue;
                int i = n.indexOf(SUFFIX);
                if (i > 0 && (n.length() == i + SUFFIX.length() || n.startsWith(SnapshotWriter.PREV_SUFFIX, i + SUFFIX.length())
                        || n.startsWith(FileStore.CORRUPT_INFIX, i + SUFFIX.length()) || n.startsWith(Journal.INFIX, i + SUFFIX.length()))) {
                    names.add(n.substring(0, i + SUFFIX.length()));
                }
            }
        }
        return new ArrayList<>(names);
    }

    /** By convention a file's kind is its name without {@code .json} (clients.json holds "clients"). */
    static String kindOf(String fileName) {
        return fileName.endsWith(SUFFIX) ? fileName.substring(0, fileName.length() - SUFFIX.length()) : fileName;
    }
}
