package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.file.RecordingFileOps.Op;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store never starts silently on missing or unreadable data: a missing journal segment or a gap, a data file
 * deleted after one write, a complete journal frame with a bad checksum refuse the start with the recovery command; a
 * file the server cannot read, a symbolic link or a directory in place of a data file refuse the start and are left
 * alone (a permission error is not damage).
 */
class NoSilentStartTest {
    private static final Duration TTL = Duration.ofDays(1);
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private TreeMap<Long, Path> segments() throws IOException {
        return new Journal(dir.resolve(FileStores.REFRESH_TOKENS), FileOps.POSIX).segments();
    }

    private String refusal() {
        try (FileStore store = FileStore.open(dir)) {
            StoreException e = assertThrows(StoreException.class, () -> new RefreshTokens(FileStores.grants(store), TTL), "the start must be refused");
            assertFalse(e.unavailable());
            return e.getMessage();
        }
    }

    @Test
    void aDeletedFirstJournalSegmentRefusesTheStartAndRecoverListsTheFamilies() throws Exception {
        RefreshTokens.Issued a, b;
        try (FileStore s = FileStore.open(dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
            a = rt.create("c", "alice", "mcp", null, true, NOW);
            b = rt.create("c", "bob", "mcp", null, true, NOW);
        } // clean stop: both in the snapshot, which names an empty segment to replay from
        FileStore s = FileStore.open(dir);
        assertTrue(new RefreshTokens(FileStores.grants(s), TTL).revoke(a.family().familyId()));
        s.crashForTest(); // the revocation is only in the journal
        Path first = segments().firstEntry().getValue();
        Files.delete(first);

        String msg = refusal();
        assertTrue(msg.contains(first.getFileName().toString()) && msg.contains("missing") && msg.contains("store recover"), msg);
        assertTrue(Files.exists(dir.resolve(FileStores.REFRESH_TOKENS)), "nothing was moved");

        List<String> report = new ArrayList<>();
        assertEquals(List.of(), new Recovery().recover(dir, List.of(), report::add));
        String all = String.join("\n", report);
        assertTrue(all.contains(first.getFileName() + " is missing"), all);
        assertTrue(all.contains(a.family().familyId()) && all.contains(b.family().familyId()),
                "every family whose revocation or rotation may be in the lost segment is listed:\n" + all);
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(again), TTL);
            assertNotNull(rt.get(a.family().familyId()), "the price of the operator's explicit choice: as of the snapshot (and listed)");
        }
    }

    @Test
    void aGapInTheJournalRefusesTheStartAndRecoverKeepsTheSegmentsAroundIt() throws Exception {
        List<String> tokens = new ArrayList<>();
        for (int session = 0; session < 3; session++) {
            FileStore s = FileStore.open(dir);
            tokens.add(new RefreshTokens(FileStores.grants(s), TTL).create("c", "u" + session, "mcp", null, true, NOW).refreshToken());
            s.crashForTest();
        }
        assertEquals(List.of(1L, 2L, 3L), new ArrayList<>(segments().keySet()));
        Files.delete(segments().get(2L));

        String msg = refusal();
        assertTrue(msg.contains("gap") && msg.contains(FileStores.REFRESH_TOKENS + Journal.INFIX + "2") && msg.contains("store recover"), msg);

        List<String> report = new ArrayList<>();
        assertEquals(List.of(), new Recovery().recover(dir, List.of(), report::add));
        assertTrue(String.join("\n", report).contains(FileStores.REFRESH_TOKENS + Journal.INFIX + "2 is missing"), String.join("\n", report));
        try (FileStore again = FileStore.open(dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(again), TTL);
            assertNotNull(rt.find(tokens.get(0), NOW));
            assertNull(rt.find(tokens.get(1), NOW), "its segment is gone");
            assertNotNull(rt.find(tokens.get(2), NOW), "the segment after the gap was kept");
        }
    }

    @Test
    void aDataFileDeletedAfterOneWriteRefusesTheStart() throws Exception {
        try (FileStore s = FileStore.open(dir)) {
            put(s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED), "alice", "admin");
        }
        assertTrue(Files.exists(dir.resolve("things.json.prev")), ".prev exists from the first write on");
        Files.delete(dir.resolve("things.json"));
        String withPrev = refuseThings();
        assertTrue(withPrev.contains("things.json.prev") && withPrev.contains("store recover"), withPrev);

        Files.delete(dir.resolve("things.json.prev")); // no trace left but the manifest
        String withoutTrace = refuseThings();
        assertTrue(withoutTrace.contains("things.json") && withoutTrace.contains(Manifest.FILE) && withoutTrace.contains("--discard things.json"),
                withoutTrace);
        Recovery.FileState st = new Recovery().check(dir).stream().filter(f -> f.name().equals("things.json")).findFirst().orElseThrow();
        assertTrue(!st.ok() && st.problem().startsWith("missing:"), String.valueOf(st));

        assertEquals(List.of("things.json"), new Recovery().recover(dir, List.of(), l -> { }), "nothing to restore without --discard");
        assertEquals(List.of(), new Recovery().recover(dir, List.of("things.json"), l -> { }));
        try (FileStore s = FileStore.open(dir)) {
            assertEquals(0, s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED).size(), "empty, as the operator chose");
        }
    }

    private String refuseThings() {
        try (FileStore s = FileStore.open(dir)) {
            StoreException e = assertThrows(StoreException.class, () -> s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED));
            assertFalse(e.unavailable());
            return e.getMessage();
        }
    }

    /** From the first write on there is always a .prev; replacing it never leaves a moment without one (also at compaction). */
    @Test
    void thereIsNeverAMomentWithoutAPreviousGeneration() throws Exception {
        RecordingFileOps ops = new RecordingFileOps();
        List<String> missing = new ArrayList<>();
        ops.hook = (op, p) -> {
            for (String name : List.of("things.json", FileStores.REFRESH_TOKENS)) {
                if (Files.exists(dir.resolve(name)) && !Files.exists(dir.resolve(name + SnapshotWriter.PREV_SUFFIX))) {
                    missing.add(name + " before " + op + " " + p);
                }
            }
        };
        FileStore.Tuning compactOften = new FileStore.Tuning();
        compactOften.minCompactBytes = 1;
        try (FileStore s = FileStore.open(dir, ops, compactOften)) {
            DurableMap<String> m = s.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
            for (int i = 0; i < 30; i++) {
                put(m, "k" + i, "v");
                rt.create("c", "u" + i, "mcp", null, true, NOW);
            }
        }
        assertEquals(List.of(), missing);

        // a replacement that fails (here: its source is gone) keeps the old .prev
        Path prev = dir.resolve("things.json.prev");
        byte[] before = Files.readAllBytes(prev);
        assertThrows(IOException.class, () -> FileOps.POSIX.replaceHardLink(prev, dir.resolve("no-such-file")));
        assertArrayEquals(before, Files.readAllBytes(prev), "a failed replacement leaves .prev as it was");
    }

    @Test
    void aFileTheServerCannotReadIsNotDamageAndNothingIsMoved() throws Exception {
        try (FileStore s = FileStore.open(dir)) {
            put(s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED), "a", "1");
        }
        byte[] bytes = Files.readAllBytes(dir.resolve("things.json"));
        RecordingFileOps ops = new RecordingFileOps();
        ops.hook = (op, p) -> {
            if (op == Op.READ && p.getFileName().toString().equals("things.json")) throw new AccessDeniedException(p.toString());
        };
        try (FileStore s = FileStore.open(dir, ops)) {
            StoreException e = assertThrows(StoreException.class, () -> s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED));
            String msg = e.getMessage();
            assertFalse(e.unavailable());
            assertTrue(msg.contains("cannot be read") && msg.contains("Permission denied") && msg.contains("belongs to user")
                    && msg.contains("mode rw-------") && msg.contains("not damage") && msg.contains("nothing was moved"), msg);
            assertFalse(msg.contains("store recover"), "recovering an older generation is not the advice: " + msg);
        }
        assertArrayEquals(bytes, Files.readAllBytes(dir.resolve("things.json")), "left in place");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(FileStore.CORRUPT_INFIX)), "nothing moved aside");
        }
    }

    /**
     * The real thing: the server runs as another user (uid 54321, no passwd entry) and a data file belongs to root,
     * mode 0600. The start is refused naming the owner; {@code store recover} changes nothing. Needs root and setpriv.
     */
    @Test
    void aFileOwnedByAnotherUserSaysSoAndRecoverChangesNothing(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.matches("Uid:\\s+\\d+\\s+0\\s.*")),
                "needs root (effective uid 0) to run a child under another uid");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        int uid = 54321;
        Path data = tmp.resolve("run/data");
        Files.createDirectories(data.getParent());
        try (FileStore s = FileStore.open(data)) {
            DurableMap<String> m = s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED);
            put(m, "a", "1");
            put(m, "b", "2");
        }
        // everything to uid 54321, except things.json, which stays root's (0600)
        try (Stream<Path> files = Files.list(data)) {
            for (Path p : files.toList()) {
                if (!p.getFileName().toString().equals("things.json")) Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        }
        Files.setAttribute(data, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(data.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, byte[]> before = contents(data);
        String cp = PermissionsTest.readableCopyOfClasspath(tmp.resolve("cp"));
        List<String> asUid = List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups");

        try (ChildJvm child = ChildJvm.startWrapped(tmp.resolve("load.err"), asUid, cp, null, "load", data.toString())) {
            String line = child.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
            assertTrue(line.startsWith("REFUSED") && line.contains("Permission denied") && line.contains("belongs to user 'root' (uid 0)")
                    && line.contains("(uid " + uid + ") who runs the server") && line.contains("nothing was moved"), line);
        }
        try (ChildJvm child = ChildJvm.startWrapped(tmp.resolve("recover.err"), asUid, cp, null, "recover", data.toString())) {
            List<String> lines = new ArrayList<>();
            String l;
            while (!(l = child.awaitLine(x -> true, Duration.ofSeconds(60))).startsWith("NOT-RECOVERED")) lines.add(l);
            assertTrue(l.contains("things.json"), l + "\n" + lines);
            assertTrue(lines.stream().anyMatch(x -> x.contains("things.json: unreadable") && x.contains("Nothing was changed")), String.valueOf(lines));
        }
        Map<String, byte[]> after = contents(data);
        after.remove(DataDirectory.LOCK_FILE);
        before.remove(DataDirectory.LOCK_FILE);
        assertEquals(before.keySet(), after.keySet(), "no file was moved, added or removed");
        for (String n : before.keySet()) assertArrayEquals(before.get(n), after.get(n), n + " changed");
    }

    private static Map<String, byte[]> contents(Path d) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(d)) {
            for (Path p : files.toList()) out.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return out;
    }

    /** A complete last frame that fails its checksum is damage, not a torn write: refused; recover keeps a copy and names the family. */
    @Test
    void aCompleteLastFrameWithABadChecksumIsDamageNotATornWrite() throws Exception {
        FileStore s = FileStore.open(dir);
        RefreshTokens rt = new RefreshTokens(FileStores.grants(s), TTL);
        rt.create("c", "alice", "mcp", null, true, NOW);
        RefreshTokens.Issued last = rt.create("c", "bob", "mcp", null, true, NOW);
        s.crashForTest();
        Path seg = segments().lastEntry().getValue();
        byte[] good = Files.readAllBytes(seg);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'#'}), good.length - 3); // inside the last frame's payload
        }
        byte[] damaged = Files.readAllBytes(seg);

        String msg = refusal();
        assertTrue(msg.contains("checksum") && msg.contains("store recover"), msg);
        assertArrayEquals(damaged, Files.readAllBytes(seg), "not cut off as if it were an unfinished write");

        List<String> report = new ArrayList<>();
        assertEquals(List.of(), new Recovery().recover(dir, List.of(), report::add));
        String all = String.join("\n", report);
        assertTrue(all.contains(last.family().familyId()) && all.contains("gone"), "the family in the dropped frame is named:\n" + all);
        Path copy;
        try (Stream<Path> files = Files.list(dir)) {
            copy = files.filter(p -> p.getFileName().toString().startsWith(seg.getFileName() + FileStore.CORRUPT_INFIX)).findFirst().orElseThrow();
        }
        assertArrayEquals(damaged, Files.readAllBytes(copy), "a copy of the bytes is kept");
        try (FileStore again = FileStore.open(dir)) {
            assertEquals(1, new RefreshTokens(FileStores.grants(again), TTL).size());
        }
    }

    @Test
    void aDataFileThatIsASymlinkOutOfTheDirectoryIsRefused(@TempDir Path elsewhere) throws Exception {
        try (FileStore s = FileStore.open(dir)) {
            put(s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED), "a", "1");
        }
        Path outside = Files.copy(dir.resolve("things.json"), elsewhere.resolve("things.json"));
        Files.delete(dir.resolve("things.json"));
        Files.createSymbolicLink(dir.resolve("things.json"), outside);
        String msg = refuseThings();
        assertTrue(msg.contains("symbolic link") && msg.contains(outside.toString()), msg);
        assertTrue(Files.isSymbolicLink(dir.resolve("things.json")), "left alone");
        Recovery.FileState st = new Recovery().check(dir).stream().filter(f -> f.name().equals("things.json")).findFirst().orElseThrow();
        assertTrue(!st.ok() && st.problem().startsWith("not a file: a symbolic link"), String.valueOf(st));
    }

    @Test
    void aDirectoryInPlaceOfADataFileIsReportedAndLeftAlone() throws Exception {
        try (FileStore s = FileStore.open(dir)) {
            put(s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED), "a", "1");
        }
        Files.delete(dir.resolve("things.json"));
        Files.createDirectory(dir.resolve("things.json"));
        Recovery.FileState st = new Recovery().check(dir).stream().filter(f -> f.name().equals("things.json")).findFirst().orElseThrow();
        assertTrue(!st.ok() && st.problem().startsWith("not a file: a directory"), String.valueOf(st));
        String msg = refuseThings();
        assertTrue(msg.contains("is a directory"), msg);
        List<String> report = new ArrayList<>();
        assertEquals(List.of("things.json"), new Recovery().recover(dir, List.of(), report::add));
        assertTrue(Files.isDirectory(dir.resolve("things.json")), "left alone: " + report);
    }
}
