package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory is 0700 and every file in it 0600, whatever the umask; looser modes are tightened at open. */
class PermissionsTest {
    @TempDir
    Path tmp;

    @Test
    void filesAre0600AndTheDirectory0700EvenUnderUmask000() throws Exception {
        Path dir = tmp.resolve("nested/data");
        try (ChildJvm child = ChildJvm.start(tmp.resolve("child.err"), "000", "write", dir.toString())) {
            child.awaitLine(l -> l.equals("DONE $"), Duration.ofSeconds(60));
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)));
        }
        // the child really ran with umask 000: a file it did not create with an explicit mode would be 0666
        assertEquals("rwx------", mode(dir));
        Map<String, String> modes = modes(dir);
        assertTrue(modes.keySet().containsAll(List.of(io.mcpoauth.store.file.FileStores.CLIENTS, io.mcpoauth.store.file.FileStores.CLIENTS + ".prev", io.mcpoauth.store.file.FileStores.REFRESH_TOKENS,
                io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + ".prev", DataDirectory.LOCK_FILE)), "all files were written: " + modes);
        for (Map.Entry<String, String> e : modes.entrySet()) {
            assertEquals("rw-------", e.getValue(), e.getKey() + " under umask 000");
        }
    }

    @Test
    void umaskIsReallyAppliedToTheChild() throws Exception {
        // control for the test above: under umask 000 a plain `touch` gives 0666
        Path f = tmp.resolve("control");
        Process p = new ProcessBuilder("bash", "-c", "umask 000 && touch '" + f + "'").start();
        assertEquals(0, p.waitFor());
        assertEquals("rw-rw-rw-", mode(f));
    }

    @Test
    void looseModesAreTightenedAtOpen() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir)) {
            FileStores.clients(store).put(new ClientRecord("c", "C", List.of("http://127.0.0.1/cb"), null, null, "none", null, null, null,
                    null, Instant.EPOCH, null, null, null));
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir.resolve(io.mcpoauth.store.file.FileStores.CLIENTS), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(dir.resolve(DataDirectory.LOCK_FILE), PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.writeString(dir.resolve("notes.txt"), "admin's notes");
        Files.setPosixFilePermissions(dir.resolve("notes.txt"), PosixFilePermissions.fromString("rwx---r--"));
        try (FileStore store = FileStore.open(dir)) {
            assertEquals(1, FileStores.clients(store).count());
            assertEquals("rwx------", mode(dir));
            for (Map.Entry<String, String> e : modes(dir).entrySet()) {
                assertEquals("rw-------", e.getValue(), e.getKey() + " was tightened");
            }
        }
    }

    @Test
    void aDataDirectoryThatIsASymlinkIsRefused() throws Exception {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        StoreException e = assertThrows(StoreException.class, () -> FileStore.open(link));
        assertFalse(e.unavailable());
        assertTrue(e.getMessage().contains(link.toString()) && e.getMessage().contains("symbolic link"), e.getMessage());
        try (Stream<Path> s = Files.list(real)) {
            assertEquals(0, s.count(), "nothing was created through the link");
        }
    }

    @Test
    void aDataDirectoryThatIsAFileIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("data"), "x");
        StoreException e = assertThrows(StoreException.class, () -> FileStore.open(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    void leftoverTempFilesAreDeletedAtOpen() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileStore store = FileStore.open(dir)) {
            new RefreshTokens(FileStores.grants(store), Duration.ofHours(1)).create("c", "u", "mcp", null, true, Instant.now());
        }
        Path leftover = Files.writeString(dir.resolve(SnapshotWriter.TMP_PREFIX + io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + "-17f3a"), "{\"format\":1,\"half");
        Path leftover2 = Files.writeString(dir.resolve(SnapshotWriter.TMP_PREFIX + io.mcpoauth.store.file.FileStores.CLIENTS + "-1"), "");
        try (FileStore store = FileStore.open(dir)) {
            assertFalse(Files.exists(leftover));
            assertFalse(Files.exists(leftover2));
            assertEquals(1, new RefreshTokens(FileStores.grants(store), Duration.ofHours(1)).size(), "the real file is untouched");
        }
    }

    @Test
    void leftoverTempFilesOfALockHolderAreNotTouchedByARefusedOpen() throws Exception {
        Path dir = tmp.resolve("data");
        try (ChildJvm holder = ChildJvm.start(tmp.resolve("holder.err"), null, "hold", dir.toString())) {
            holder.awaitLine(l -> l.startsWith("HELD "), Duration.ofSeconds(60));
            // stands for the holder's write in progress: only the lock holder may clean up
            Path inProgress = Files.writeString(dir.resolve(SnapshotWriter.TMP_PREFIX + io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + "-abc"), "{");
            assertThrows(StoreException.class, () -> FileStore.open(dir));
            assertTrue(Files.exists(inProgress), "a refused open deletes nothing");
        }
    }

    /**
     * A server started under a uid that has no passwd entry (docker --user 1000, Kubernetes runAsUser) has
     * {@code user.name} "?"; it must still accept the directory it created itself, and still refuse one owned by
     * someone else. Needs root (to switch uid with setpriv); skipped otherwise.
     */
    @Test
    void aUidWithoutAPasswdEntryAcceptsItsOwnDirectory() throws Exception {
        assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.matches("Uid:\\s+\\d+\\s+0\\s.*")),
                "needs root (effective uid 0) to run a child under another uid");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        int uid = 54321;
        assumeTrue(Files.readAllLines(Path.of("/etc/passwd")).stream().noneMatch(l -> l.split(":").length > 2 && l.split(":")[2].equals("" + uid)),
                "uid " + uid + " must have no passwd entry");
        // the child runs as that uid: give it a readable copy of the class path and a directory it may create in
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        String cp = readableCopyOfClasspath(tmp.resolve("cp"));
        Path parent = Files.createDirectory(tmp.resolve("run"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> asUid = List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups");

        Path dir = parent.resolve("data");
        try (ChildJvm child = ChildJvm.startWrapped(tmp.resolve("uid.err"), asUid, cp, null, "write", dir.toString())) {
            child.awaitLine(l -> l.equals("DONE $") || l.startsWith("REFUSED"), Duration.ofSeconds(60));
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), child.stderrText());
        }
        assertEquals(uid, Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals("rwx------", mode(dir));
        assertTrue(Files.exists(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS)));

        Path notTheirs = Files.createDirectory(parent.resolve("root-owned"));
        try (ChildJvm child = ChildJvm.startWrapped(tmp.resolve("uid2.err"), asUid, cp, null, "open", notTheirs.toString())) {
            String line = child.awaitLine(l -> l.startsWith("REFUSED") || l.startsWith("OPENED"), Duration.ofSeconds(60));
            assertTrue(line.startsWith("REFUSED") && line.contains("belongs to user 'root'") && line.contains("uid " + uid), line);
            assertEquals(3, child.awaitExit(Duration.ofSeconds(30)));
        }
    }

    /** Copies the class path entries the child needs (class directories, Jackson and SLF4J jars), readable by all. */
    static String readableCopyOfClasspath(Path target) throws IOException {
        List<String> out = new java.util.ArrayList<>();
        int i = 0;
        for (String entry : ChildJvm.classpath().split(java.io.File.pathSeparator)) {
            Path src = Path.of(entry);
            String name = src.getFileName() == null ? "" : src.getFileName().toString();
            Path dst = target.resolve((i++) + "-" + name);
            if (Files.isDirectory(src)) {
                try (Stream<Path> walk = Files.walk(src)) {
                    for (Path p : walk.toList()) {
                        Path d = dst.resolve(src.relativize(p).toString());
                        if (Files.isDirectory(p)) Files.createDirectories(d);
                        else Files.copy(p, d);
                    }
                }
            } else if (name.endsWith(".jar") && (name.startsWith("jackson") || name.startsWith("slf4j"))) {
                Files.createDirectories(target);
                Files.copy(src, dst);
            } else {
                continue;
            }
            out.add(dst.toString());
        }
        try (Stream<Path> walk = Files.walk(target)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static Map<String, String> modes(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) m.put(p.getFileName().toString(), mode(p));
        }
        return m;
    }
}
