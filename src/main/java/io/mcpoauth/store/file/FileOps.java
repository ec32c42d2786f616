package io.mcpoauth.store.file;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The file-system calls the store makes, in one place, so a test can record their order
 * (write, fsync file, rename, fsync directory, then acknowledge) and inject failures (EIO, ENOSPC, EACCES).
 */
public interface FileOps {
    Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    FileAttribute<Set<PosixFilePermission>> FILE_ATTR = PosixFilePermissions.asFileAttribute(FILE_MODE);
    FileAttribute<Set<PosixFilePermission>> DIR_ATTR = PosixFilePermissions.asFileAttribute(DIR_MODE);

    /** Creates {@code file} (must not exist) with mode 0600, writes every byte and forces it to disk. */
    void writeNewAndSync(Path file, byte[] data) throws IOException;

    /** Atomically replaces {@code target} with {@code source}; never falls back to a non-atomic move. */
    void atomicMove(Path source, Path target) throws IOException;

    /** Makes the directory entry changes in {@code dir} durable. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Points {@code link} (replaced if present) at the same file as {@code existing}, atomically: there is no moment
     * without {@code link} (a new link is made under a temporary name and renamed over it). Keeps the previous generation.
     */
    void replaceHardLink(Path link, Path existing) throws IOException;

    void deleteIfExists(Path file) throws IOException;

    /** Forces appended data (and the size needed to read it) to disk: fdatasync. */
    default void forceData(FileChannel channel) throws IOException {
        channel.force(false);
    }

    /** Creates a new journal segment (0600, never through a symbolic link) open for appending. */
    default FileChannel createSegment(Path file) throws IOException {
        return FileChannel.open(DataDirectory.anchored(file), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS), FILE_ATTR);
    }

    /** Cuts {@code channel}'s file back to {@code size} bytes (a journal frame whose write or fdatasync failed). */
    default void truncate(FileChannel channel, long size) throws IOException {
        channel.truncate(size);
    }

    /** Reads a whole file without following a symbolic link (O_NOFOLLOW). */
    default byte[] readFile(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(DataDirectory.anchored(file), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            return in.readAllBytes();
        }
    }

    /**
     * The real implementation for Linux. Names in the data directory of an open store go through the descriptor the
     * store holds on that directory ({@link DataDirectory#anchored}), so a write never lands in another directory put
     * at the same path.
     */
    FileOps POSIX = new FileOps() {
        @Override
        public void writeNewAndSync(Path file, byte[] data) throws IOException {
            try (FileChannel ch = FileChannel.open(DataDirectory.anchored(file), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), FILE_ATTR)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
        }

        @Override
        public void atomicMove(Path source, Path target) throws IOException {
            try {
                Files.move(DataDirectory.anchored(source), DataDirectory.anchored(target), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system cannot rename atomically: " + target.getParent(), e);
            }
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(DataDirectory.anchored(dir), StandardOpenOption.READ)) {
                ch.force(true);
            }
        }

        @Override
        public void replaceHardLink(Path link, Path existing) throws IOException {
            Path tmp = link.resolveSibling(SnapshotWriter.TMP_PREFIX + link.getFileName() + "-" + Long.toHexString(System.nanoTime()));
            Files.createLink(DataDirectory.anchored(tmp), DataDirectory.anchored(existing));
            try {
                // rename(2) over the old link: atomic. When both already name the same file it does nothing and
                // leaves tmp, which the finally removes.
                atomicMove(tmp, link);
            } finally {
                Files.deleteIfExists(DataDirectory.anchored(tmp));
            }
        }

        @Override
        public void deleteIfExists(Path file) throws IOException {
            Files.deleteIfExists(DataDirectory.anchored(file));
        }
    };
}
