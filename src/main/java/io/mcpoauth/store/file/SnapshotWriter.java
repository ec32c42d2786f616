package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The crash-safe rewrite of one file: encode, write a new temp file (0600 at creation) and fsync it, keep the
 * current file as {@code <name>.prev} (a hard link: the previous generation, for recovery), rename the temp file
 * over the target atomically, fsync the directory. Only then may the caller acknowledge.
 */
final class SnapshotWriter {
    static final String PREV_SUFFIX = ".prev";
    static final String TMP_PREFIX = ".tmp-";

    private final Path target;
    private final Path prev;
    private final Path dir;
    private final FileOps ops;
    private final SnapshotFormat format;

    SnapshotWriter(Path target, FileOps ops, SnapshotFormat format) {
        this.target = target;
        this.prev = target.resolveSibling(target.getFileName() + PREV_SUFFIX);
        this.dir = target.toAbsolutePath().getParent();
        this.ops = ops;
        this.format = format;
    }

    Path target() {
        return target;
    }

    void write(String kind, long generation, List<? extends Map.Entry<String, ?>> records, SnapshotFormat.Layout layout) throws IOException {
        writeBytes(format.encode(kind, generation, records, layout));
    }

    /** A snapshot of a journaled file: the journal must be replayed from segment {@code journalSegment} on. */
    void write(String kind, long generation, List<? extends Map.Entry<String, ?>> records, SnapshotFormat.Layout layout,
               long journalSegment) throws IOException {
        writeBytes(format.encode(kind, generation, records, layout, journalSegment));
    }

    void writeBytes(byte[] bytes) throws IOException {
        Path tmp = dir.resolve(TMP_PREFIX + target.getFileName() + "-" + Long.toHexString(System.nanoTime()));
        try {
            ops.writeNewAndSync(tmp, bytes);
            if (Files.exists(target)) ops.replaceHardLink(prev, target);
            ops.atomicMove(tmp, target);
        } catch (IOException | RuntimeException e) {
            try {
                ops.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the leftover temp file is removed at the next start, after the lock is taken
            }
            throw e;
        }
        ops.syncDirectory(dir);
    }
}
