package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The append-only journal behind a {@link DurableMap} in journal mode: segment files {@code <file>.journal-<n>} of
 * frames {@code [length u32][crc32c u32][payload]}. Each commit appends one frame and fdatasyncs it; the readable
 * snapshot ({@code <file>}) records from which segment on the journal must be replayed, and compaction (a new
 * snapshot, then deleting older segments) keeps the journal short. At load, a torn frame at the very end of the
 * last segment (a commit that was never acknowledged) is cut off; damage anywhere else refuses the start.
 */
final class Journal implements AutoCloseable {
    static final String INFIX = ".journal-";
    private static final int HEADER = 8;
    static final int MAX_FRAME = 64 * 1024 * 1024;

    private final Path dir;
    private final String baseName;
    private final FileOps ops;
    private FileChannel channel;
    private long segment;
    private long bytes;

    Journal(Path target, FileOps ops) {
        this.dir = target.toAbsolutePath().getParent();
        this.baseName = target.getFileName().toString();
        this.ops = ops;
    }

    /** A damaged journal: the message says where. */
    static final class Damaged extends Exception {
        final Path segment;
        final long offset;

        Damaged(Path segment, long offset, String message) {
            super(message, null, false, false);
            this.segment = segment;
            this.offset = offset;
        }
    }

    /** Segment numbers present on disk, ascending. */
    TreeMap<Long, Path> segments() throws IOException {
        TreeMap<Long, Path> out = new TreeMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, baseName + INFIX + "*")) {
            for (Path p : s) {
                String n = p.getFileName().toString().substring(baseName.length() + INFIX.length());
                try {
                    out.put(Long.parseLong(n), p);
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        }
        return out;
    }

    Path segmentPath(long n) {
        return dir.resolve(baseName + INFIX + n);
    }

    /**
     * Reads every frame of the segments numbered {@code from} and above, in order. A torn frame at the end of the
     * last segment is cut off (when {@code repair}) and reported through the returned count.
     *
     * @return how many torn bytes were cut off at the end
     */
    long replay(long from, boolean repair, java.util.function.Consumer<byte[]> frames) throws IOException, Damaged {
        TreeMap<Long, Path> segs = segments();
        long cut = 0;
        List<Long> numbers = new ArrayList<>(segs.tailMap(from, true).keySet());
        int lastNonEmpty = -1;
        for (int i = 0; i < numbers.size(); i++) {
            if (Files.size(segs.get(numbers.get(i))) > 0) lastNonEmpty = i;
        }
        for (int i = 0; i < numbers.size(); i++) {
            Path p = segs.get(numbers.get(i));
            boolean last = i >= lastNonEmpty;
            byte[] all = Files.readAllBytes(p);
            int pos = 0;
            while (pos < all.length) {
                String where = p.getFileName() + " at byte " + pos;
                if (all.length - pos < HEADER) {
                    if (!last) throw new Damaged(p, pos, where + ": a frame is cut short in the middle of the journal");
                    break;
                }
                ByteBuffer h = ByteBuffer.wrap(all, pos, HEADER).order(ByteOrder.BIG_ENDIAN);
                int len = h.getInt();
                int crc = h.getInt();
                if (len < 0 || len > MAX_FRAME) {
                    if (!last || !zeroTail(all, pos)) throw new Damaged(p, pos, where + ": an impossible frame length");
                    break;
                }
                if (all.length - pos - HEADER < len) {
                    if (!last) throw new Damaged(p, pos, where + ": a frame is cut short in the middle of the journal");
                    break;
                }
                CRC32C c = new CRC32C();
                c.update(all, pos + HEADER, len);
                if ((int) c.getValue() != crc) {
                    if (!last || pos + HEADER + len != all.length) throw new Damaged(p, pos, where + ": a frame fails its checksum");
                    break;
                }
                byte[] payload = new byte[len];
                System.arraycopy(all, pos + HEADER, payload, 0, len);
                frames.accept(payload);
                pos += HEADER + len;
            }
            if (pos < all.length) {
                cut = all.length - pos;
                if (repair) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.truncate(pos);
                        ch.force(true);
                    }
                }
            }
        }
        return cut;
    }

    private static boolean zeroTail(byte[] all, int pos) {
        for (int i = pos; i < all.length; i++) if (all[i] != 0) return false;
        return true;
    }

    /** Cuts the journal at a damaged frame: the segment is truncated there and every later segment deleted. Returns the bytes dropped. */
    long truncateAt(Damaged d) throws IOException {
        long dropped = Files.size(d.segment) - d.offset;
        try (FileChannel ch = FileChannel.open(d.segment, StandardOpenOption.WRITE)) {
            ch.truncate(d.offset);
            ch.force(true);
        }
        String name = d.segment.getFileName().toString();
        long n = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
        for (var e : segments().tailMap(n, false).entrySet()) {
            dropped += Files.size(e.getValue());
            Files.delete(e.getValue());
        }
        ops.syncDirectory(dir);
        return dropped;
    }

    /** Starts appending to a new segment numbered {@code n} (created 0600, directory synced). */
    void startSegment(long n) throws IOException {
        closeChannel();
        Path p = segmentPath(n);
        channel = FileChannel.open(p, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.APPEND), FileOps.FILE_ATTR);
        ops.syncDirectory(dir);
        segment = n;
        bytes = 0;
    }

    long segment() {
        return segment;
    }

    long bytes() {
        return bytes;
    }

    /** Appends one frame and forces it to disk before returning. */
    void append(byte[] payload) throws IOException {
        if (channel == null) throw new IOException("the journal is not open");
        ByteBuffer buf = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.BIG_ENDIAN);
        CRC32C c = new CRC32C();
        c.update(payload);
        buf.putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();
        while (buf.hasRemaining()) channel.write(buf);
        ops.forceData(channel);
        bytes += HEADER + payload.length;
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
