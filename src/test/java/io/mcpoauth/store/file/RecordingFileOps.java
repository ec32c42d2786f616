package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps {@link FileOps#POSIX}, records every call (with a global sequence number shared with the test's own events)
 * and lets a test inject a hook before a call (to block on a latch, or to throw an {@link IOException}).
 */
class RecordingFileOps implements FileOps {
    enum Op { WRITE_AND_SYNC, LINK_PREV, RENAME, SYNC_DIR, DELETE, FORCE_DATA, CREATE_SEGMENT, TRUNCATE, READ }

    /** One call: {@code a}/{@code b} are its paths, {@code bytes} what was written, {@code mode} the new file's mode. */
    record Call(long seq, Op op, Path a, Path b, byte[] bytes, String mode, boolean ok) {}

    interface Hook {
        void before(Op op, Path a) throws IOException;
    }

    final AtomicLong clock = new AtomicLong();
    private final List<Call> calls = new ArrayList<>();
    private final FileOps delegate;
    volatile Hook hook = (op, a) -> {};

    RecordingFileOps() {
        this(FileOps.POSIX);
    }

    RecordingFileOps(FileOps delegate) {
        this.delegate = delegate;
    }

    synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    synchronized void clear() {
        calls.clear();
    }

    private synchronized void record(Op op, Path a, Path b, byte[] bytes, String mode, boolean ok) {
        calls.add(new Call(clock.incrementAndGet(), op, a, b, bytes, mode, ok));
    }

    private interface Body {
        void run() throws IOException;
    }

    private void call(Op op, Path a, Path b, byte[] bytes, Body body) throws IOException {
        hook.before(op, a);
        boolean ok = false;
        try {
            body.run();
            ok = true;
        } finally {
            String mode = null;
            if (op == Op.WRITE_AND_SYNC && ok) {
                mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(DataDirectory.anchored(a), LinkOption.NOFOLLOW_LINKS));
            }
            record(op, a, b, bytes, mode, ok);
        }
    }

    @Override
    public void writeNewAndSync(Path file, byte[] data) throws IOException {
        call(Op.WRITE_AND_SYNC, file, null, data.clone(), () -> delegate.writeNewAndSync(file, data));
    }

    @Override
    public void atomicMove(Path source, Path target) throws IOException {
        call(Op.RENAME, source, target, null, () -> delegate.atomicMove(source, target));
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        call(Op.SYNC_DIR, dir, null, null, () -> delegate.syncDirectory(dir));
    }

    @Override
    public void replaceHardLink(Path link, Path existing) throws IOException {
        call(Op.LINK_PREV, link, existing, null, () -> delegate.replaceHardLink(link, existing));
    }

    /** fdatasync of an appended journal segment. */
    @Override
    public void forceData(FileChannel channel) throws IOException {
        call(Op.FORCE_DATA, null, null, null, () -> channel.force(false));
    }

    @Override
    public void deleteIfExists(Path file) throws IOException {
        call(Op.DELETE, file, null, null, () -> delegate.deleteIfExists(file));
    }

    /** Creating a new journal segment (the directory fsync that follows is a separate SYNC_DIR). */
    @Override
    public FileChannel createSegment(Path file) throws IOException {
        FileChannel[] out = new FileChannel[1];
        call(Op.CREATE_SEGMENT, file, null, null, () -> out[0] = delegate.createSegment(file));
        return out[0];
    }

    /** Cutting a journal segment back after a failed append. */
    @Override
    public void truncate(FileChannel channel, long size) throws IOException {
        call(Op.TRUNCATE, null, null, null, () -> delegate.truncate(channel, size));
    }

    /** Reading a file at load (not recorded, so call lists show writes only; the hook still sees it). */
    @Override
    public byte[] readFile(Path file) throws IOException {
        hook.before(Op.READ, file);
        return delegate.readFile(file);
    }
}
