package io.mcpoauth.store.file;

import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory, owned by this process for its lifetime: created 0700, refused when it is a symlink, owned by
 * another user or on a network file system; guarded by an exclusive lock on {@code .lock} (freed by the kernel even
 * after {@code kill -9}), opened without following a symbolic link; files that are too open are tightened; leftover
 * temp files removed once the lock is held. {@link #verify} tells whether the directory and the lock file are still
 * the ones locked (checked before every write).
 */
public final class DataDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);
    static final String LOCK_FILE = ".lock";
    private static final Set<String> NETWORK_FS = Set.of("nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "afs", "9p", "ncpfs");

    /**
     * Directories (real paths) this JVM holds. POSIX record locks belong to the process: a second, refused attempt in
     * the same JVM must never open and close a channel to {@code .lock}, because closing it drops the lock held
     * through the first channel.
     */
    private static final Set<Path> HELD_BY_THIS_JVM = ConcurrentHashMap.newKeySet();

    /**
     * Open data directories (their absolute path) and the name of the descriptor this process holds open on each,
     * {@code /proc/self/fd/<n>}. Every file operation of the store goes through that name ({@link #anchored}): the
     * kernel resolves it to the directory that was opened, whatever is at the path now. Without it, a write checked
     * against the directory's identity just before (see {@link #verify}) could still land in a directory put in its
     * place an instant later, one that another server may be using: the check and the write are two system calls.
     * Through the descriptor, a write that races a replacement lands in this server's own (moved) directory, and one
     * that races a deletion fails (a deleted directory takes no new entries).
     */
    private static final ConcurrentHashMap<Path, Path> ANCHORS = new ConcurrentHashMap<>();
    private static final int O_DSYNC = 010000; // Linux (x86-64, arm64): marks the anchor among descriptors of the same directory

    private final Path path;
    private final Path heldKey;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Object dirKey;
    private final Object lockKey;
    private FileChannel anchorChannel;

    private DataDirectory(Path path, Path heldKey, FileChannel lockChannel, FileLock lock, Object dirKey, Object lockKey) {
        this.path = path;
        this.heldKey = heldKey;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.dirKey = dirKey;
        this.lockKey = lockKey;
    }

    /**
     * {@code p} itself, or, for the data directory of an open store and the entries directly in it, the same name
     * through the descriptor held open on that directory ({@code /proc/self/fd/<n>/things.json}). Every file operation
     * on data files goes through here ({@link FileOps#POSIX}, {@link SnapshotWriter}, {@link Journal}).
     */
    static Path anchored(Path p) {
        if (p == null || ANCHORS.isEmpty()) return p;
        Path a = ANCHORS.get(p);
        if (a != null) return a;
        Path parent = p.getParent();
        if (parent == null) return p;
        a = ANCHORS.get(parent);
        return a == null ? p : a.resolve(p.getFileName());
    }

    /** {@code s} with every anchored name written as the data directory's path again (for messages). */
    static String unanchored(String s) {
        if (s == null || ANCHORS.isEmpty()) return s;
        for (Map.Entry<Path, Path> e : ANCHORS.entrySet()) {
            String a = e.getValue().toString();
            if (s.contains(a)) s = s.replaceAll(Pattern.quote(a) + "(?![0-9])", Matcher.quoteReplacement(e.getKey().toString()));
        }
        return s;
    }

    /**
     * Opens the descriptor that {@link #anchored} names, or leaves the store on plain paths (with a warning) where
     * {@code /proc/self/fd} is not there or the descriptor cannot be told apart from others.
     */
    private void anchor() {
        Path fds = Path.of("/proc/self/fdinfo");
        if (!Files.isDirectory(fds)) {
            LOG.warn("No /proc/self/fdinfo: writes to {} go by path (a directory put in its place while a write is under way could receive it)", path);
            return;
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.DSYNC); // DSYNC: no other descriptor has it
            Path found = null;
            int candidates = 0;
            try (DirectoryStream<Path> s = Files.newDirectoryStream(fds)) {
                for (Path info : s) {
                    Integer flags = fdFlags(info);
                    if (flags == null || (flags & O_DSYNC) == 0) continue;
                    Path fd = Path.of("/proc/self/fd").resolve(info.getFileName());
                    BasicFileAttributes a;
                    try {
                        a = Files.readAttributes(fd, BasicFileAttributes.class); // follows the descriptor to what it is open on
                    } catch (IOException e) {
                        continue; // closed meanwhile
                    }
                    if (a.isDirectory() && Objects.equals(a.fileKey(), dirKey)) {
                        found = fd;
                        candidates++;
                    }
                }
            }
            if (candidates != 1) {
                LOG.warn("Cannot tell this process's descriptor of {} apart ({} candidates): writes go by path", path, candidates);
                ch.close();
                return;
            }
            anchorChannel = ch;
            ANCHORS.put(path, found);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot hold {} open ({}): writes go by path", path, describe(e));
            closeQuietly(ch);
        }
    }

    private static Integer fdFlags(Path info) {
        try {
            for (String line : Files.readAllLines(info, StandardCharsets.US_ASCII)) {
                if (line.startsWith("flags:")) return Integer.parseInt(line.substring(6).trim(), 8);
            }
        } catch (IOException | RuntimeException e) {
            // closed meanwhile
        }
        return null;
    }

    public Path path() {
        return path;
    }

    /** Opens (creating if needed) and locks {@code dir}; every refusal is a {@link StoreException} with a clear message. */
    public static DataDirectory open(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (Files.isSymbolicLink(abs)) {
                throw StoreException.refused("The data directory " + abs + " is a symbolic link; point OAUTH_DATA_DIR at the real directory.");
            }
            if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(abs, FileOps.DIR_ATTR);
                LOG.info("Created data directory {}", abs);
            }
            if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
                throw StoreException.refused("OAUTH_DATA_DIR " + abs + " exists but is not a directory.");
            }
            String owner = Files.getOwner(abs, LinkOption.NOFOLLOW_LINKS).getName();
            String me = System.getProperty("user.name");
            Integer uid = effectiveUid();
            if (!ownedByThisProcess(abs, owner, me, uid)) {
                throw StoreException.refused("The data directory " + abs + " belongs to user '" + owner + "', not to '" + me
                        + "'" + (uid == null ? "" : " (uid " + uid + ")") + " who runs the server; fix the owner (chown) or use another OAUTH_DATA_DIR.");
            }
            String fsType = Files.getFileStore(abs).type().toLowerCase(Locale.ROOT);
            if (NETWORK_FS.contains(fsType)) {
                throw StoreException.refused("The data directory " + abs + " is on a network file system (" + fsType
                        + "); its locks and renames cannot be trusted. Use a local disk.");
            }
        } catch (IOException e) {
            throw StoreException.refused("The data directory " + abs + " cannot be used: " + describe(e));
        }
        Path heldKey;
        try {
            heldKey = abs.toRealPath();
        } catch (IOException e) {
            throw StoreException.refused("The data directory " + abs + " cannot be used: " + describe(e));
        }
        if (!HELD_BY_THIS_JVM.add(heldKey)) {
            throw StoreException.refused("This mcp-oauth-server (pid " + ProcessHandle.current().pid() + ") already uses the data directory "
                    + abs + "; it cannot be opened twice.");
        }
        FileChannel ch = null;
        boolean opened = false;
        Path lockFile = abs.resolve(LOCK_FILE);
        try {
            BasicFileAttributes existing = attributesOrNull(lockFile);
            if (existing != null && !existing.isRegularFile()) {
                throw StoreException.refused("The lock file " + lockFile + " is " + whatIs(existing) + ", not a regular file; the server"
                        + " never follows or replaces it. Remove it (rm " + lockFile + ") and start again.");
            }
            // never through a symbolic link (O_NOFOLLOW): a link planted here would make the server truncate its target
            ch = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), FileOps.FILE_ATTR);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = readPid(ch);
                ch.close();
                throw StoreException.refused("Another mcp-oauth-server" + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + " is using the data directory " + abs + ". Stop it first, or give this one another OAUTH_DATA_DIR.");
            }
            BasicFileAttributes lockAttrs = Files.readAttributes(lockFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!lockAttrs.isRegularFile()) throw StoreException.refused("The lock file " + lockFile + " is not a regular file; remove it and start again.");
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            ch.force(true);
            Object dirKey = Files.readAttributes(abs, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            DataDirectory d = new DataDirectory(abs, heldKey, ch, lock, dirKey, lockAttrs.fileKey());
            d.tighten();
            d.anchor();
            opened = true;
            return d;
        } catch (FileSystemException e) {
            closeQuietly(ch);
            if (Files.isSymbolicLink(lockFile)) {
                throw StoreException.refused("The lock file " + lockFile + " is a symbolic link; the server never follows it (it would"
                        + " truncate the link's target). Remove it (rm " + lockFile + ") and start again.");
            }
            throw StoreException.refused("Cannot lock the data directory " + abs + ": " + describe(e));
        } catch (IOException e) {
            closeQuietly(ch);
            throw StoreException.refused("Cannot lock the data directory " + abs + ": " + describe(e));
        } finally {
            if (!opened) {
                closeQuietly(ch);
                HELD_BY_THIS_JVM.remove(heldKey);
            }
        }
    }

    /**
     * Whether a process holds the lock of {@code dir} right now: its pid (this JVM's pid when this JVM holds it, "?"
     * when it recorded none), or null when nobody does. Changes nothing. Inside a process that holds the lock it never
     * opens a channel on {@code .lock} (closing one would drop the POSIX lock); elsewhere it briefly takes and frees
     * the lock to test it.
     */
    public static String runningServer(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path lockFile = abs.resolve(LOCK_FILE);
        if (!Files.isDirectory(abs) || !Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS)) return null;
        try {
            if (HELD_BY_THIS_JVM.contains(abs.toRealPath())) return String.valueOf(ProcessHandle.current().pid());
        } catch (IOException e) {
            return null;
        }
        if (Files.isSymbolicLink(lockFile)) return null;
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return String.valueOf(ProcessHandle.current().pid());
            }
            if (lock != null) {
                lock.release();
                return null;
            }
            String pid = readPid(ch);
            return pid.isEmpty() ? "?" : pid;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Compares numeric uids when they are known: a process whose uid has no passwd entry (a container started with
     * {@code --user 1000}, Kubernetes {@code runAsUser}) has {@code user.name} "?", while the owner of the directory it
     * created itself reads as "1000", so comparing names would refuse its own directory. Falls back to the names.
     */
    static boolean ownedByThisProcess(Path abs, String ownerName, String me, Integer uid) throws IOException {
        if (uid != null) {
            try {
                return Files.getAttribute(abs, "unix:uid", LinkOption.NOFOLLOW_LINKS) instanceof Integer owner && owner.intValue() == uid;
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // no "unix" attribute view: compare names below
            }
        }
        return me == null || ownerName.equals(me);
    }

    /** The effective uid of this process from /proc/self/status (Linux), or null when unknown. */
    static Integer effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Uid:")) return Integer.valueOf(line.substring(4).trim().split("\\s+")[1]);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc
        }
        return null;
    }

    /**
     * Null while the data directory and its lock file are the very ones this process opened and locked; else what
     * happened (deleted, replaced). Checked before every write: after {@code rm -rf} of the directory (or a new one in
     * its place, where another server may now hold a lock of its own) nothing more may be written or acknowledged. The
     * lock file cannot be replaced by one with the same identity: this process keeps it open, so its inode is not reused.
     */
    String verify() {
        try {
            BasicFileAttributes d = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!d.isDirectory() || !Objects.equals(d.fileKey(), dirKey)) {
                return "the data directory " + path + " was replaced by another one while the server was running";
            }
        } catch (NoSuchFileException e) {
            return "the data directory " + path + " was deleted while the server was running";
        } catch (IOException e) {
            return "the data directory " + path + " cannot be checked: " + describe(e);
        }
        Path lockFile = path.resolve(LOCK_FILE);
        try {
            BasicFileAttributes l = Files.readAttributes(lockFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!Objects.equals(l.fileKey(), lockKey)) {
                return "the lock file " + lockFile + " was replaced while the server was running (another server may be using the directory)";
            }
        } catch (NoSuchFileException e) {
            return "the lock file " + lockFile + " was deleted while the server was running (the data directory was emptied or deleted)";
        } catch (IOException e) {
            return "the lock file " + lockFile + " cannot be checked: " + describe(e);
        }
        return null;
    }

    /** What a file system entry is, in words ("a directory", "a symbolic link"...). */
    static String whatIs(BasicFileAttributes a) {
        if (a.isDirectory()) return "a directory";
        if (a.isSymbolicLink()) return "a symbolic link";
        if (a.isRegularFile()) return "a regular file";
        return "a special file (a device, pipe or socket)";
    }

    static BasicFileAttributes attributesOrNull(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Who owns {@code file} and its mode, compared with the user running the server: "it belongs to user 'root' (uid
     * 0), mode rw-------, not to 'mcp' (uid 1000) who runs the server".
     */
    static String ownership(Path file) {
        try {
            PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object uid;
            try {
                uid = Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                uid = null;
            }
            String me = System.getProperty("user.name");
            Integer myUid = effectiveUid();
            boolean foreign = myUid != null && uid instanceof Integer u ? u.intValue() != myUid : !a.owner().getName().equals(me);
            return "it belongs to user '" + a.owner().getName() + "'" + (uid == null ? "" : " (uid " + uid + ")") + ", mode "
                    + PosixFilePermissions.toString(a.permissions())
                    + (foreign ? ", not to '" + me + "'" + (myUid == null ? "" : " (uid " + myUid + ")") + " who runs the server"
                    : ", and the server runs as that user");
        } catch (IOException e) {
            return "its owner and mode cannot be read either (" + describe(e) + ")";
        }
    }

    /** The pid recorded by the process holding the lock, or "" when unknown. */
    public static String lockHolder(Path dir) {
        try {
            if (Files.isSymbolicLink(dir.resolve(LOCK_FILE))) return "";
            return Files.readString(dir.resolve(LOCK_FILE), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static String readPid(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        ch.read(buf, 0);
        return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).strip();
    }

    private void tighten() throws IOException {
        Set<PosixFilePermission> dirPerms = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
        if (!dirPerms.equals(FileOps.DIR_MODE)) {
            Files.setPosixFilePermissions(path, FileOps.DIR_MODE);
            LOG.warn("Data directory {} was {}; tightened to rwx------", path, PosixFilePermissions.toString(dirPerms));
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(path)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.startsWith(SnapshotWriter.TMP_PREFIX) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(f);
                    LOG.info("Removed an unfinished write left by an earlier run: {}", name);
                    continue;
                }
                if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) continue;
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS);
                EnumSet<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
                for (PosixFilePermission p : perms) {
                    if (!FileOps.FILE_MODE.contains(p)) open.add(p);
                }
                if (!open.isEmpty()) {
                    try {
                        Files.setPosixFilePermissions(f, FileOps.FILE_MODE);
                    } catch (IOException e) {
                        throw StoreException.refused(f + " is readable by others (" + PosixFilePermissions.toString(perms)
                                + ") and cannot be tightened: " + describe(e) + "; " + ownership(f)
                                + ". Fix it (chown/chmod 600) and start again; nothing was changed.");
                    }
                    LOG.warn("{} was {}; tightened to rw-------", name, PosixFilePermissions.toString(perms));
                }
            }
        }
    }

    @Override
    public void close() {
        if (!lockChannel.isOpen()) return; // closed before: the key may already belong to a newer holder
        try {
            if (lock.isValid()) lock.release();
        } catch (IOException ignored) {
            // the kernel frees it when the channel closes
        }
        closeQuietly(lockChannel);
        if (anchorChannel != null) {
            ANCHORS.remove(path); // first: no new operation may name the descriptor once it is closed
            closeQuietly(anchorChannel);
        }
        HELD_BY_THIS_JVM.remove(heldKey);
    }

    static String describe(Throwable e) {
        return unanchored(describeRaw(e));
    }

    private static String describeRaw(Throwable e) {
        if (e instanceof FileSystemException fse && fse.getReason() != null) return fse.getReason() + " (" + fse.getFile() + ")";
        if (e instanceof java.nio.file.AccessDeniedException ade) return "Permission denied (" + ade.getFile() + ")";
        if (e instanceof NoSuchFileException nsf) return "No such file (" + nsf.getFile() + ")";
        if (e instanceof IOException && e.getMessage() != null) return e.getMessage();
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
