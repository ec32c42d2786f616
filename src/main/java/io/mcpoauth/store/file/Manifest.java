package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code .manifest}: which data files this data directory holds (each with the instant it was first written), so a
 * data file that is missing at start is noticed even when no trace of it is left (no {@code .prev}, no journal):
 * the start is refused instead of beginning that file empty. A file is listed once it exists on disk (its first,
 * empty generation is written when it is opened the first time), so a crash in between never refuses a start. A
 * data directory without a manifest (written by an older version, or restored from a backup) gets one listing the
 * files present. Written with the crash-safe recipe of {@link SnapshotWriter}.
 */
final class Manifest {
    static final String FILE = ".manifest";
    static final String KIND = "manifest";

    private final SnapshotWriter writer;
    private final SnapshotFormat format;
    private final TreeMap<String, String> files = new TreeMap<>();
    private long generation;

    private Manifest(Path dir, FileOps ops, SnapshotFormat format) {
        this.writer = new SnapshotWriter(dir.resolve(FILE), ops, format);
        this.format = format;
    }

    /** The manifest of {@code dir}, empty when there is none yet. */
    static Manifest load(Path dir, FileOps ops, SnapshotFormat format) throws IOException, SnapshotFormat.Corrupt {
        Manifest m = new Manifest(dir, ops, format);
        Path file = dir.resolve(FILE);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) throw new SnapshotFormat.Corrupt("it is not a regular file");
            SnapshotFormat.Decoded d = format.decode(ops.readFile(file), KIND);
            for (Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = d.records().fields(); it.hasNext(); ) {
                Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
                m.files.put(e.getKey(), e.getValue().asText(""));
            }
            m.generation = d.generation();
            m.writer.adopt();
        }
        return m;
    }

    /** The listed names, without reading anything else; empty when the manifest is missing or damaged. */
    static List<String> listed(Path dir, SnapshotFormat format) {
        try {
            return new ArrayList<>(load(dir, FileOps.POSIX, format).files.keySet());
        } catch (IOException | SnapshotFormat.Corrupt e) {
            return List.of();
        }
    }

    synchronized boolean lists(String name) {
        return files.containsKey(name);
    }

    synchronized List<String> names() {
        return new ArrayList<>(files.keySet());
    }

    /** Lists {@code name} (durably) unless it is listed already. */
    synchronized void add(String name) throws IOException {
        if (files.containsKey(name)) return;
        files.put(name, Instant.now().toString());
        try {
            write();
        } catch (IOException | RuntimeException e) {
            files.remove(name);
            throw e;
        }
    }

    /** Writes the manifest again as it is (when the file was deleted or changed while the server ran). */
    synchronized void rewrite() throws IOException {
        write();
    }

    /** Null while {@code .manifest} is as this process last wrote or read it. */
    synchronized String changedOnDisk() {
        return writer.changedOnDisk();
    }

    private void write() throws IOException {
        List<Map.Entry<String, ?>> records = new ArrayList<>();
        for (Map.Entry<String, String> e : files.entrySet()) records.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
        writer.write(KIND, ++generation, records, SnapshotFormat.Layout.INDENTED);
    }

    /** For {@code store recover}: a manifest listing exactly {@code names}. */
    static void rebuild(Path dir, FileOps ops, SnapshotFormat format, List<String> names) throws IOException {
        Manifest m = new Manifest(dir, ops, format);
        for (String n : names) m.files.put(n, Instant.now().toString());
        m.generation = 1;
        try {
            Manifest old = load(dir, ops, format);
            m.generation = old.generation + 1;
            for (String n : names) if (old.files.containsKey(n)) m.files.put(n, old.files.get(n));
        } catch (IOException | SnapshotFormat.Corrupt ignored) {
            // damaged or unreadable: replaced
        }
        m.write();
    }
}
