package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The crash-safe rewrite of one file: encode, write a new temp file (0600 at creation) and fsync it, keep the
 * current file as {@code <name>.prev} (a hard link, replaced atomically: there is never a moment without a previous
 * generation; the first generation is linked as {@code .prev} too), rename the temp file over the target atomically,
 * fsync the directory. Only then may the caller acknowledge.
 *
 * <p>A failed write leaves the committed content in place. When the rename happened but the directory fsync failed,
 * the new content (never acknowledged) is already visible: the previous generation is linked back over it at once.
 * Should that fail too, the writer is {@linkplain #dirty() dirty}: the file may hold content that was refused, the
 * next write must not keep it as {@code .prev}, and the owner must rewrite the file from its committed state before
 * acknowledging anything else (see {@link DurableMap}).
 */
final class SnapshotWriter {
    static final String PREV_SUFFIX = ".prev";
    static final String TMP_PREFIX = ".tmp-";

    /** The target as this writer last left it, to notice a file deleted, replaced or edited behind the server's back. */
    record Stamp(Object fileKey, long size, FileTime modified) {}

    private final Path target;
    private final Path prev;
    private final Path dir;
    private final FileOps ops;
    private final SnapshotFormat format;
    private volatile boolean dirty;
    private volatile boolean unsynced;
    private volatile Stamp written;

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

    /** True when the target may hold content that was never acknowledged (a failed write could not be undone). */
    boolean dirty() {
        return dirty;
    }

    /** True when the target's content is right but the directory fsync that makes it durable failed. */
    boolean unsynced() {
        return unsynced;
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
        boolean existed = Files.exists(DataDirectory.anchored(target), LinkOption.NOFOLLOW_LINKS);
        boolean keepPrev = existed && !dirty; // the current file is a committed generation
        boolean firstPrev = !existed && !Files.exists(DataDirectory.anchored(prev), LinkOption.NOFOLLOW_LINKS);
        boolean renamed = false;
        try {
            ops.writeNewAndSync(tmp, bytes);
            if (keepPrev) ops.replaceHardLink(prev, target);
            else if (firstPrev) ops.replaceHardLink(prev, tmp);
            ops.atomicMove(tmp, target);
            renamed = true;
            ops.syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp, e);
            if (renamed) undoRename(existed, keepPrev, firstPrev, e);
            else if (firstPrev) deleteQuietly(prev, e); // it named the refused content
            throw e;
        }
        dirty = false;
        unsynced = false;
        written = stamp();
    }

    /** The rename happened, the directory fsync did not: put the committed content back in view. */
    private void undoRename(boolean existed, boolean keepPrev, boolean firstPrev, Exception failure) {
        try {
            if (keepPrev) {
                ops.replaceHardLink(target, prev); // .prev is the file that was current before this write
            } else if (!existed) {
                ops.deleteIfExists(target);
                if (firstPrev) ops.deleteIfExists(prev);
            } else {
                dirty = true; // it held refused content already: there is nothing clean to put back
                return;
            }
            unsynced = true;
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            dirty = true;
        }
    }

    private void deleteQuietly(Path p, Exception failure) {
        try {
            ops.deleteIfExists(p);
        } catch (IOException | RuntimeException e) {
            // a leftover temp file is removed at the next start, after the lock is taken
            failure.addSuppressed(e);
        }
    }

    /** Records the target as it is now (at load) as this writer's own. */
    void adopt() {
        written = stamp();
    }

    /** Null while the target is as this writer left it, else what changed ("was deleted", ...). */
    String changedOnDisk() {
        Stamp w = written;
        if (w == null) return null;
        Stamp now = stamp();
        if (now == null) return "was deleted";
        if (!Objects.equals(now.fileKey(), w.fileKey())) return "was replaced by another file";
        if (now.size() != w.size() || !now.modified().equals(w.modified())) return "was changed by another program";
        return null;
    }

    private Stamp stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(DataDirectory.anchored(target), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime());
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return new Stamp(null, -1, FileTime.fromMillis(0));
        }
    }
}
