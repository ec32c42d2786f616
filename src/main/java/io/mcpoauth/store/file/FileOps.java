package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The file-system calls the store makes, in one place, so a test can record their order
 * (write, fsync file, rename, fsync directory, then acknowledge).
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

    /** Points {@code link} (replaced if present) at the same file as {@code existing}: keeps the previous generation. */
    void replaceHardLink(Path link, Path existing) throws IOException;

    void deleteIfExists(Path file) throws IOException;

    /** Forces appended data (and the size needed to read it) to disk: fdatasync. */
    default void forceData(FileChannel channel) throws IOException {
        channel.force(false);
    }

    /** The real implementation for Linux. */
    FileOps POSIX = new FileOps() {
        @Override
        public void writeNewAndSync(Path file, byte[] data) throws IOException {
            try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), FILE_ATTR)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
        }

        @Override
        public void atomicMove(Path source, Path target) throws IOException {
            try {
                Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system cannot rename atomically: " + target.getParent(), e);
            }
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }

        @Override
        public void replaceHardLink(Path link, Path existing) throws IOException {
            Files.deleteIfExists(link);
            Files.createLink(link, existing);
        }

        @Override
        public void deleteIfExists(Path file) throws IOException {
            Files.deleteIfExists(file);
        }
    };
}
