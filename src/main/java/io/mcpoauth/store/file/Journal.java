package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The append-only journal behind a {@link DurableMap} in journal mode: segment files {@code <file>.journal-<n>} of
 * frames {@code [length u32][crc32c u32][payload]}. Each commit appends one frame and fdatasyncs it; the readable
 * snapshot ({@code <file>}) records from which segment on the journal must be replayed, and compaction (a new
 * segment, then a snapshot pointing at it, then deleting older segments) keeps the journal short.
 *
 * <p>At load the segments from the snapshot's first one on must all be there, numbered without a gap, and every
 * complete frame must pass its checksum. Only a frame actually cut short at the very end of the last segment (a
 * commit that was never acknowledged) is cut off; anything else (a missing segment, a gap, a complete frame that fails
 * its checksum, damage in the middle) refuses the start. A frame whose write or fdatasync failed is cut off at once,
 * so it can never be replayed.
 */
final class Journal implements AutoCloseable {
    static final String INFIX = ".journal-";
    static final int HEADER = 8;
    static final int MAX_FRAME = 64 * 1024 * 1024;

    private final Path dir;
    private final String baseName;
    private final FileOps ops;
    private FileChannel channel;
    private long segment;
    private long bytes;
    private Object segmentKey;
    private boolean broken;

    Journal(Path target, FileOps ops) {
        this.dir = target.toAbsolutePath().getParent();
        this.baseName = target.getFileName().toString();
        this.ops = ops;
    }

    /** A damaged journal: the message says where. */
    static final class Damaged extends Exception {
        final Path segment;
        final long number;
        final long offset;

        Damaged(Path segment, long number, long offset, String message) {
            super(message, null, false, false);
            this.segment = segment;
            this.number = number;
            this.offset = offset;
        }
    }

    /** Segment numbers present on disk, ascending. */
    TreeMap<Long, Path> segments() throws IOException {
        TreeMap<Long, Path> out = new TreeMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(DataDirectory.anchored(dir), baseName + INFIX + "*")) {
            for (Path p : s) {
                Long n = numberOf(p.getFileName().toString());
                if (n != null) out.put(n, dir.resolve(p.getFileName().toString()));
            }
        }
        return out;
    }

    private Long numberOf(String name) {
        if (!name.startsWith(baseName + INFIX)) return null;
        String n = name.substring(baseName.length() + INFIX.length());
        if (n.isEmpty() || n.length() > 18 || !n.chars().allMatch(Character::isDigit)) return null; // e.g. a .corrupt- copy
        return Long.parseLong(n);
    }

    Path segmentPath(long n) {
        return dir.resolve(baseName + INFIX + n);
    }

    String name(long n) {
        return baseName + INFIX + n;
    }

    /** One piece of a segment, as {@link #scan} found it. */
    record Piece(long segment, Path path, long offset, long length, byte[] payload, String problem, boolean tornTail) {
        boolean good() {
            return problem == null && !tornTail;
        }
    }

    /**
     * The segments numbered {@code from} and above, checked: every one present, without a gap, each a regular file.
     *
     * @throws Damaged for a missing first segment, a gap, or a segment that is not a regular file
     */
    NavigableMap<Long, Path> checkedSegments(long from) throws IOException, Damaged {
        NavigableMap<Long, Path> tail = segments().tailMap(from, true);
        if (tail.isEmpty() || tail.firstKey() != from) {
            throw new Damaged(segmentPath(from), from, 0, name(from) + " is missing: the snapshot says the journal starts there"
                    + (tail.isEmpty() ? " and no later segment exists" : " (the first one present is " + name(tail.firstKey()) + ")"));
        }
        long expect = from;
        for (Map.Entry<Long, Path> e : tail.entrySet()) {
            if (e.getKey() != expect) {
                throw new Damaged(segmentPath(expect), expect, 0, name(expect) + (e.getKey() - 1 > expect ? " to " + name(e.getKey() - 1) : "")
                        + " missing: the journal has a gap before " + name(e.getKey()));
            }
            BasicFileAttributes a = Files.readAttributes(e.getValue(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                throw new Damaged(e.getValue(), expect, 0, name(expect) + " is not a regular file (" + DataDirectory.whatIs(a) + ")");
            }
            expect++;
        }
        return tail;
    }

    /**
     * Reads every frame of the segments numbered {@code from} and above, in order. A frame cut short at the end of the
     * last segment is cut off (when {@code repair}) and reported through the returned count.
     *
     * @return how many torn bytes were cut off at the end
     */
    long replay(long from, boolean repair, java.util.function.Consumer<byte[]> frames) throws IOException, Damaged {
        NavigableMap<Long, Path> segs = checkedSegments(from);
        List<Long> numbers = new ArrayList<>(segs.keySet());
        int lastNonEmpty = -1;
        for (int i = 0; i < numbers.size(); i++) {
            if (Files.size(segs.get(numbers.get(i))) > 0) lastNonEmpty = i;
        }
        long cut = 0;
        for (int i = 0; i < numbers.size(); i++) {
            long n = numbers.get(i);
            Path p = segs.get(n);
            boolean last = i >= lastNonEmpty;
            byte[] all = ops.readFile(p);
            int pos = 0;
            while (pos < all.length) {
                Frame f = frameAt(all, pos, last);
                if (f.problem != null) throw new Damaged(p, n, pos, name(n) + " at byte " + pos + ": " + f.problem);
                if (f.torn) break;
                byte[] payload = new byte[f.length];
                System.arraycopy(all, pos + HEADER, payload, 0, f.length);
                frames.accept(payload);
                pos += HEADER + f.length;
            }
            if (pos < all.length) {
                cut = all.length - pos;
                if (repair) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        ch.truncate(pos);
                        ch.force(true);
                    }
                }
            }
        }
        return cut;
    }

    /** What is at {@code pos}: a good frame ({@code length}), a torn tail, or a problem. */
    private record Frame(int length, boolean torn, String problem) {}

    private static Frame frameAt(byte[] all, int pos, boolean last) {
        int left = all.length - pos;
        if (left < HEADER) {
            return last ? new Frame(0, true, null) : new Frame(0, false, "a frame is cut short in the middle of the journal");
        }
        ByteBuffer h = ByteBuffer.wrap(all, pos, HEADER).order(ByteOrder.BIG_ENDIAN);
        int len = h.getInt();
        int crc = h.getInt();
        if (len < 0 || len > MAX_FRAME) {
            if (last && zeroTail(all, pos)) return new Frame(0, true, null); // space the file system allocated, never written
            return new Frame(0, false, "an impossible frame length (" + Integer.toUnsignedString(len) + ")");
        }
        if (left - HEADER < len) {
            return last ? new Frame(0, true, null) : new Frame(0, false, "a frame is cut short in the middle of the journal");
        }
        CRC32C c = new CRC32C();
        c.update(all, pos + HEADER, len);
        if ((int) c.getValue() != crc) {
            return new Frame(len, false, pos + HEADER + len == all.length && last
                    ? "the last frame is complete but fails its checksum (damage, not an unfinished write)"
                    : "a frame fails its checksum");
        }
        return new Frame(len, false, null);
    }

    private static boolean zeroTail(byte[] all, int pos) {
        for (int i = pos; i < all.length; i++) if (all[i] != 0) return false;
        return true;
    }

    /**
     * For {@code store recover}: every piece of the journal from {@code from} on, in order, never throwing for damage:
     * good frames, missing segments, damaged frames (with their payload when its length is plausible, to name what it
     * held), and a torn tail. After a damaged frame whose length is plausible the scan goes on after it; otherwise the
     * rest of that segment is one damaged piece.
     */
    List<Piece> scan(long from) throws IOException {
        TreeMap<Long, Path> segs = segments();
        NavigableMap<Long, Path> tail = segs.tailMap(from, true);
        List<Piece> out = new ArrayList<>();
        long expect = from;
        List<Long> numbers = new ArrayList<>(tail.keySet());
        int lastNonEmpty = -1;
        for (int i = 0; i < numbers.size(); i++) {
            Path p = tail.get(numbers.get(i));
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) > 0) lastNonEmpty = i;
        }
        for (int i = 0; i < numbers.size(); i++) {
            long n = numbers.get(i);
            Path p = tail.get(n);
            for (long m = expect; m < n; m++) out.add(new Piece(m, segmentPath(m), 0, 0, null, name(m) + " is missing", false));
            expect = n + 1;
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                out.add(new Piece(n, p, 0, 0, null, name(n) + " is not a regular file (" + DataDirectory.whatIs(a) + ")", false));
                continue;
            }
            boolean last = i >= lastNonEmpty;
            byte[] all = ops.readFile(p);
            int pos = 0;
            while (pos < all.length) {
                Frame f = frameAt(all, pos, last);
                if (f.torn) {
                    out.add(new Piece(n, p, pos, all.length - pos, null, null, true));
                    break;
                }
                if (f.problem == null || f.length > 0 && pos + HEADER + f.length <= all.length) {
                    byte[] payload = new byte[f.length];
                    System.arraycopy(all, pos + HEADER, payload, 0, f.length);
                    out.add(new Piece(n, p, pos, HEADER + f.length, payload,
                            f.problem == null ? null : name(n) + " at byte " + pos + ": " + f.problem, false));
                    pos += HEADER + f.length;
                } else {
                    out.add(new Piece(n, p, pos, all.length - pos, null, name(n) + " at byte " + pos + ": " + f.problem, false));
                    break;
                }
            }
        }
        if (tail.isEmpty()) out.add(new Piece(from, segmentPath(from), 0, 0, null, name(from) + " is missing", false));
        return out;
    }

    /**
     * Starts appending to segment {@code n}: created 0600, directory synced. An empty segment {@code n} left by an
     * earlier attempt whose directory fsync failed (or by a clean stop) is reused. When this fails, appends go on to
     * the current segment as before.
     */
    void startSegment(long n) throws IOException {
        Path p = segmentPath(n);
        BasicFileAttributes existing = attributes(p);
        FileChannel ch = existing != null && existing.isRegularFile() && existing.size() == 0
                ? FileChannel.open(DataDirectory.anchored(p), Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS))
                : ops.createSegment(p);
        Object key;
        try {
            ops.syncDirectory(dir);
            BasicFileAttributes a = attributes(p);
            if (a == null) throw new NoSuchFileException(p.toString(), null, "the new journal segment vanished");
            key = a.fileKey();
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing was written to it
            }
            throw e;
        }
        closeChannel();
        channel = ch;
        segment = n;
        bytes = 0;
        broken = false;
        segmentKey = key;
    }

    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(DataDirectory.anchored(p), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    long segment() {
        return segment;
    }

    long bytes() {
        return bytes;
    }

    /**
     * Appends one frame and forces it to disk before returning. When the write or the fdatasync fails the frame is cut
     * off again at once (a later restart must never replay a refused commit); if even that fails, nothing more is
     * appended to this segment.
     */
    void append(byte[] payload) throws IOException {
        if (channel == null) throw new IOException("the journal is not open");
        if (broken) throw new IOException(name(segment) + " ends with a write that could not be cut off; a new segment is needed");
        String gone = problemOnDisk();
        if (gone != null) throw new IOException(gone);
        ByteBuffer buf = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.BIG_ENDIAN);
        CRC32C c = new CRC32C();
        c.update(payload);
        buf.putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();
        long before = bytes;
        try {
            while (buf.hasRemaining()) channel.write(buf);
            ops.forceData(channel);
        } catch (IOException | RuntimeException e) {
            try {
                ops.truncate(channel, before);
            } catch (IOException | RuntimeException t) {
                broken = true;
                e.addSuppressed(t);
                throw e;
            }
            try {
                ops.forceData(channel);
            } catch (IOException | RuntimeException t) {
                // the cut is visible; the owner writes a new snapshot (and segment) before acknowledging anything else
                e.addSuppressed(t);
            }
            throw e;
        }
        bytes += HEADER + payload.length;
    }

    /** Null while the open segment is still the file named {@code <file>.journal-<n>}, else what happened to it. */
    String problemOnDisk() {
        if (channel == null) return null;
        Path p = segmentPath(segment);
        try {
            BasicFileAttributes a = attributes(p);
            if (a == null) return "the journal segment " + p + " was deleted while the server was running";
            if (!Objects.equals(a.fileKey(), segmentKey)) return "the journal segment " + p + " was replaced by another file";
            return null;
        } catch (IOException e) {
            return "the journal segment " + p + " cannot be checked: " + DataDirectory.describe(e);
        }
    }

    /** Deletes segments numbered below {@code keepFrom}. */
    void deleteBefore(long keepFrom) throws IOException {
        boolean any = false;
        for (var e : segments().headMap(keepFrom, false).entrySet()) {
            ops.deleteIfExists(e.getValue());
            any = true;
        }
        if (any) ops.syncDirectory(dir);
    }

    private void closeChannel() throws IOException {
        if (channel != null) channel.close();
        channel = null;
    }

    @Override
    public void close() {
        try {
            closeChannel();
        } catch (IOException ignored) {
            // the data is already forced
        }
    }
}
