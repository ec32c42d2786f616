package io.mcpoauth.store.file;

import io.mcpoauth.store.CommitStats;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON file store: one locked data directory holding one file per kind of record. Each file is a
 * {@link DurableMap} with group commit. The store never starts on missing or unreadable data: a damaged file is
 * moved aside and the start refused with the recovery command; a file that is missing although {@code .manifest}
 * lists it (or a {@code .prev}, a journal or a damaged copy of it exists) refuses the start; a file the server
 * cannot read (permissions), a symbolic link or a directory in place of a file refuses the start and is left alone.
 *
 * <p>While it runs, every write first checks that the data directory and its lock file are still the ones it locked
 * (after {@code rm -rf} or a replaced directory every write is refused; a write already past that check when the
 * directory is swapped still goes to the server's own directory, through the descriptor it holds on it, never into the
 * new one: see {@link DataDirectory#anchored}), and a background probe (every few seconds)
 * notices files deleted or changed behind its back and rewrites unhealthy files from memory, so health recovers by
 * itself once the disk works again. {@link #health} reports the store as a whole.
 */
public final class FileStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileStore.class);
    public static final String RECOVER_COMMAND = "java -jar mcp-oauth-server.jar store recover";
    static final String CORRUPT_INFIX = ".corrupt-";

    /** Knobs for tests: how often the probe runs, when the journal is compacted, how long close and a commit wait. */
    static final class Tuning {
        long probeMillis = 2_000;
        long minCompactBytes = 8L << 20;
        long closeTimeoutMillis = 5_000;
        /** How long {@link DurableMap#update} waits for its write before it gives up (the disk is taken to hang). */
        long commitTimeoutMillis = 30_000;
    }

    /** The store's health: healthy, or every problem in words (for /healthz, metrics and the log). */
    public record Health(boolean healthy, List<String> problems) {}

    private final DataDirectory dir;
    private final FileOps ops;
    private final Tuning tuning;
    private final SnapshotFormat format = new SnapshotFormat();
    private final CommitStats stats = new CommitStats();
    private final List<DurableMap<?>> maps = new CopyOnWriteArrayList<>();
    private final Manifest manifest;
    private final ExecutorService compactor = Executors.newSingleThreadExecutor(r -> daemon(r, "store-compactor"));
    private final ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "store-probe"));
    /** Runs every write (at most one per file at a time), so that no caller waits on a disk that hangs longer than the commit timeout. */
    private final ExecutorService writers = Executors.newCachedThreadPool(r -> daemon(r, "store-writer"));
    private volatile String gone;
    private volatile String manifestProblem;
    private volatile boolean closed;

    private final DurableMap.Guard guard = new DurableMap.Guard() {
        @Override
        public void check() throws IOException {
            String g = gone;
            if (g == null) g = verifyDirectory();
            if (g != null) throw new IOException(g);
        }

        @Override
        public String problem() {
            return gone;
        }
    };

    private FileStore(DataDirectory dir, FileOps ops, Tuning tuning) {
        this.dir = dir;
        this.ops = ops;
        this.tuning = tuning;
        try {
            this.manifest = Manifest.load(dir.path(), ops, format);
        } catch (SnapshotFormat.Corrupt c) {
            dir.close();
            throw StoreException.refused(dir.path().resolve(Manifest.FILE) + " (the list of data files) is damaged: " + c.getMessage()
                    + ". Nothing was changed. Run " + RECOVER_COMMAND + " (it checks every file and writes the list again from the files present).");
        } catch (IOException e) {
            dir.close();
            throw StoreException.refused(dir.path().resolve(Manifest.FILE) + " cannot be read: " + DataDirectory.describe(e) + "; "
                    + DataDirectory.ownership(dir.path().resolve(Manifest.FILE)) + ". Nothing was changed.");
        }
        prober.scheduleWithFixedDelay(this::probe, tuning.probeMillis, tuning.probeMillis, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public static FileStore open(Path path) {
        return open(path, FileOps.POSIX);
    }

    public static FileStore open(Path path, FileOps ops) {
        return open(path, ops, new Tuning());
    }

    static FileStore open(Path path, FileOps ops, Tuning tuning) {
        return new FileStore(DataDirectory.open(path), ops, tuning);
    }

    public Path dir() {
        return dir.path();
    }

    public CommitStats stats() {
        return stats;
    }

    FileOps ops() {
        return ops;
    }

    /** Why every write is refused (the data directory or its lock file was deleted or replaced), or null. */
    String gone() {
        if (gone == null && !closed) verifyDirectory();
        return gone;
    }

    /** True while the directory is the one this server locked and every file's last write succeeded. */
    public boolean healthy() {
        return health().healthy();
    }

    /** The store as a whole: the directory and lock, the list of files, and each file's writes. */
    public Health health() {
        List<String> problems = new ArrayList<>();
        String g = gone;
        if (g == null && !closed) g = verifyDirectory();
        if (g != null) problems.add(g);
        String m = manifestProblem;
        if (m != null) problems.add(m);
        for (DurableMap<?> map : maps) {
            String p = map.problem();
            if (p != null) problems.add(map.file().getFileName() + ": " + p + " (since " + map.failingSince() + ")");
        }
        return new Health(problems.isEmpty(), List.copyOf(problems));
    }

    private String verifyDirectory() {
        String g = dir.verify();
        if (g == null) return null;
        synchronized (this) {
            if (gone == null) {
                gone = g + ": every write is refused (another server may be using that directory now). Restore the data directory"
                        + " (from a backup if it was deleted) and restart the server";
                LOG.error("Store: {}", gone);
            }
            return gone;
        }
    }

    /** Every few seconds: directory and lock still ours, files still as written; unhealthy files rewritten from memory. */
    private void probe() {
        try {
            if (closed) return;
            if (gone == null && verifyDirectory() != null) return;
            if (gone != null) return;
            String changed = manifest.changedOnDisk();
            if (changed != null || manifestProblem != null) {
                try {
                    manifest.rewrite();
                    if (manifestProblem != null) LOG.info("Store: {} is written again", Manifest.FILE);
                    manifestProblem = null;
                } catch (IOException e) {
                    manifestProblem = Manifest.FILE + (changed == null ? "" : " " + changed) + ": cannot be written: " + DataDirectory.describe(e);
                }
            }
            for (DurableMap<?> m : maps) m.probe();
        } catch (Throwable e) { // an Error too: a task that throws is never scheduled again, and health would stay as it is
            LOG.warn("Store probe failed", e);
        }
    }

    /** Runs the probe once now (tests). */
    void probeNow() {
        probe();
    }

    public List<DurableMap<?>> maps() {
        return List.copyOf(maps);
    }

    /**
     * Loads {@code fileName} (or creates it, empty, when it never existed) as a map of {@code type} records.
     *
     * @throws StoreException (refused) when the file is damaged, unreadable, newer than this version, or missing
     */
    public <V> DurableMap<V> map(String fileName, String kind, Class<V> type, SnapshotFormat.Layout layout) {
        Loaded<V> l = load(fileName, kind, type);
        SnapshotWriter writer = new SnapshotWriter(l.file, ops, format);
        if (!l.existed) {
            try {
                guard.check();
                writer.write(kind, 0, List.of(), layout); // its first generation, so .manifest can list it
            } catch (IOException e) {
                throw StoreException.refused("Cannot create " + l.file + ": " + DataDirectory.describe(e));
            }
        } else {
            writer.adopt();
        }
        listInManifest(fileName);
        DurableMap<V> map = new DurableMap<>(kind, type, writer, layout, l.records, l.generation, stats, null, null, 0, guard,
                writers, tuning.commitTimeoutMillis);
        maps.add(map);
        return map;
    }

    /**
     * Like {@link #map} but commits append to a journal next to the file ({@code <file>.journal-<n>}), and the file is
     * rewritten as a snapshot in the background once the journal has grown. For files that change on every request.
     */
    public <V> DurableMap<V> journaledMap(String fileName, String kind, Class<V> type, SnapshotFormat.Layout layout) {
        Loaded<V> l = load(fileName, kind, type);
        SnapshotWriter writer = new SnapshotWriter(l.file, ops, format);
        Journal journal = new Journal(l.file, ops);
        try {
            guard.check();
            if (!l.existed || l.journalFrom <= 0 && journal.segments().isEmpty()) {
                // a new file (or a snapshot that names no journal): an empty segment first, then the snapshot naming it
                journal.startSegment(1);
                writer.write(kind, l.existed ? l.generation + 1 : 0, sorted(l.records), layout, 1);
            } else {
                if (l.journalFrom <= 0) {
                    throw refuseJournal(fileName, "the snapshot does not say where its journal starts, but journal segments exist");
                }
                writer.adopt();
                long from = l.journalFrom;
                JournalCodec<V> codec = new JournalCodec<>(type);
                SnapshotFormat.Corrupt[] bad = {null};
                long cut;
                try {
                    cut = journal.replay(from, true, frame -> {
                        if (bad[0] != null) return;
                        try {
                            codec.apply(frame, l.records, format);
                        } catch (SnapshotFormat.Corrupt c) {
                            bad[0] = c;
                        }
                    });
                } catch (Journal.Damaged d) {
                    throw refuseJournal(fileName, d.getMessage());
                }
                if (bad[0] != null) throw refuseJournal(fileName, bad[0].getMessage());
                if (cut > 0) {
                    LOG.warn("Cut off an unfinished write ({} bytes) at the end of the journal of {}: a commit that was never acknowledged",
                            cut, fileName);
                }
                journal.deleteBefore(from);
                TreeMap<Long, Path> segs = journal.segments();
                long last = segs.lastKey();
                journal.startSegment(Files.size(segs.get(last)) == 0 ? last : last + 1);
            }
        } catch (IOException e) {
            journal.close();
            throw StoreException.refused("Cannot open the journal of " + l.file + ": " + DataDirectory.describe(e)
                    + (e instanceof java.nio.file.AccessDeniedException ade && ade.getFile() != null
                    ? "; " + DataDirectory.ownership(Path.of(ade.getFile())) + ". This is not damage: nothing was moved or changed" : ""));
        } catch (RuntimeException e) {
            journal.close();
            throw e;
        }
        listInManifest(fileName);
        long size;
        try {
            size = Files.size(l.file);
        } catch (IOException e) {
            size = 0;
        }
        long compactBytes = Math.max(tuning.minCompactBytes, 2 * size);
        DurableMap<V> map = new DurableMap<>(kind, type, writer, layout, l.records, l.generation, stats, journal, compactor, compactBytes,
                guard, writers, tuning.commitTimeoutMillis);
        maps.add(map);
        return map;
    }

    private static <V> List<Map.Entry<String, V>> sorted(Map<String, V> records) {
        List<Map.Entry<String, V>> out = new ArrayList<>(records.entrySet());
        out.sort(Map.Entry.comparingByKey());
        return out;
    }

    private void listInManifest(String fileName) {
        try {
            manifest.add(fileName);
        } catch (IOException e) {
            throw StoreException.refused("Cannot record " + fileName + " in " + dir.path().resolve(Manifest.FILE) + ": " + DataDirectory.describe(e));
        }
    }

    private record Loaded<V>(Path file, Map<String, V> records, long generation, long journalFrom, boolean existed) {}

    private <V> Loaded<V> load(String fileName, String kind, Class<V> type) {
        if (!kind.equals(Recovery.kindOf(fileName))) throw new IllegalArgumentException("kind must be the file name without .json");
        for (DurableMap<?> m : maps) {
            if (m.file().getFileName().toString().equals(fileName)) {
                throw new IllegalStateException(fileName + " is already open in this store: two maps would overwrite each other's writes");
            }
        }
        Path file = dir.path().resolve(fileName);
        Map<String, V> initial = new HashMap<>();
        BasicFileAttributes attrs;
        try {
            attrs = DataDirectory.attributesOrNull(file);
        } catch (IOException e) {
            throw StoreException.refused(file + " cannot be checked: " + DataDirectory.describe(e) + ". Nothing was changed.");
        }
        if (attrs != null) {
            if (attrs.isSymbolicLink()) {
                String to;
                try {
                    to = " (to " + Files.readSymbolicLink(file) + ")";
                } catch (IOException e) {
                    to = "";
                }
                throw StoreException.refused(file + " is a symbolic link" + to + "; the server never follows a link for a data file"
                        + " (it could lead out of the data directory). Put the file itself there (or restore it from a backup);"
                        + " nothing was changed.");
            }
            if (!attrs.isRegularFile()) {
                throw StoreException.refused(file + " is " + DataDirectory.whatIs(attrs) + ", not a data file. Move it out of the way"
                        + " and put the file back (from a backup, or with " + RECOVER_COMMAND + "); nothing was changed.");
            }
            byte[] bytes;
            try {
                bytes = ops.readFile(file);
            } catch (IOException e) {
                throw refuseUnreadable(file, e);
            }
            try {
                long[] generationAndJournal = new long[2];
                initial = format.decodeRecords(bytes, kind, type, generationAndJournal);
                return new Loaded<>(file, initial, generationAndJournal[0], generationAndJournal[1], true);
            } catch (SnapshotFormat.NewerFormat n) {
                throw StoreException.refused(file + " cannot be read: " + n.getMessage() + ". The file was left as it is."
                        + " Run the newer version of mcp-oauth-server, or start this one on a backup it wrote.");
            } catch (SnapshotFormat.Corrupt c) {
                throw refuseDamaged(file, c.getMessage());
            }
        }
        List<String> traces = traces(fileName);
        if (!traces.isEmpty()) {
            throw StoreException.refused(fileName + " is missing from " + dir.path() + " although " + String.join(", ", traces)
                    + " exist" + (traces.size() == 1 ? "s" : "") + ". Refusing to start with an empty " + fileName
                    + ". To restore the previous generation run: " + RECOVER_COMMAND);
        }
        if (manifest.lists(fileName)) {
            throw StoreException.refused(fileName + " is missing from " + dir.path() + " although it was written before (it is listed in "
                    + Manifest.FILE + "). Refusing to start with an empty " + fileName + ". Restore it from a backup, or run "
                    + RECOVER_COMMAND + " --discard " + fileName + " to start it empty.");
        }
        return new Loaded<>(file, initial, 0, 0, false);
    }

    /** A read error is not damage: the message says why (owner, mode) and nothing is moved. */
    static StoreException refuseUnreadable(Path file, IOException e) {
        return StoreException.refused(file + " cannot be read: " + DataDirectory.describe(e) + "; " + DataDirectory.ownership(file)
                + ". This is not damage: nothing was moved or changed. Let the user who runs the server read it (chown, chmod 600),"
                + " then start again.");
    }

    private StoreException refuseJournal(String fileName, String reason) {
        return StoreException.refused("The journal of " + dir.path().resolve(fileName) + " is damaged: " + reason
                + ". The server will not start without the changes recorded there. Nothing was changed. To keep every change"
                + " that can still be read (it lists every refresh-token family whose state goes back, and keeps a copy of the"
                + " damaged bytes), run: " + RECOVER_COMMAND);
    }

    SnapshotFormat.Decoded decode(Path file, String kind) throws SnapshotFormat.Corrupt {
        byte[] bytes;
        try {
            bytes = ops.readFile(file);
        } catch (IOException e) {
            throw new SnapshotFormat.Corrupt("it cannot be read: " + DataDirectory.describe(e));
        }
        return format.decode(bytes, kind);
    }

    private StoreException refuseDamaged(Path file, String reason) {
        String name = file.getFileName().toString();
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        Path aside = file.resolveSibling(name + CORRUPT_INFIX + stamp);
        String moved;
        try {
            Files.move(file, aside);
            moved = "It was moved aside to " + aside.getFileName() + ". ";
        } catch (IOException e) {
            moved = "";
        }
        Path prev = file.resolveSibling(name + SnapshotWriter.PREV_SUFFIX);
        String next = Files.exists(prev)
                ? "To restore the previous generation (" + prev.getFileName() + ") run: " + RECOVER_COMMAND
                + " (it lists every refresh-token family it brings back)."
                : "No previous generation exists: restore " + name + " from a backup, or run " + RECOVER_COMMAND
                + " --discard " + name + " to start it empty.";
        return StoreException.refused(dir.path().resolve(name) + " is damaged: " + reason + ". " + moved
                + "The server will not start over it with empty data. " + next);
    }

    private List<String> traces(String fileName) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir.path(), fileName + "*")) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.equals(fileName + SnapshotWriter.PREV_SUFFIX) || n.startsWith(fileName + CORRUPT_INFIX)
                        || n.startsWith(fileName + Journal.INFIX)) {
                    found.add(n);
                }
            }
        } catch (IOException e) {
            throw StoreException.refused("Cannot list " + dir.path() + ": " + DataDirectory.describe(e));
        }
        found.sort(null);
        return found;
    }

    /**
     * Writes a consistent copy of the data directory into {@code target} (new or empty, outside the data directory):
     * every open file as of one instant, the others verified and copied. See {@link Backup}.
     *
     * @throws StoreException (refused) when the target is unusable or a file is damaged; (unavailable) when the data
     *                        directory is gone
     */
    public Backup.Result backup(Path target) {
        return backup(target, false);
    }

    /** As {@link #backup(Path)}; {@code includeKey} copies {@code encryption.key} too (left out by default). */
    public Backup.Result backup(Path target, boolean includeKey) {
        return Backup.run(this, maps(), target, format, includeKey);
    }

    /**
     * For tests in this package: behave like a process killed with SIGKILL (no final snapshot, no flush), but in the
     * same JVM: stop the background threads, drop open files and release the lock.
     */
    void crashForTest() {
        closed = true;
        prober.shutdownNow();
        compactor.shutdownNow();
        writers.shutdown(); // a write under way ends as it would have; nothing new starts
        try {
            prober.awaitTermination(10, TimeUnit.SECONDS);
            compactor.awaitTermination(10, TimeUnit.SECONDS);
            writers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (DurableMap<?> m : maps) m.abandon();
        dir.close();
    }

    /**
     * Stops mutations, lets in-flight commits finish, and releases the lock only once nothing of this store writes any
     * more: a compaction or write still running after the timeout keeps the lock until it ends (a daemon thread releases
     * it then; the process exiting releases it too). Returns within the close timeout (one deadline for the probe, every
     * file and the background threads), whatever the disk does: no write runs on the closing thread.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        long timeout = tuning.closeTimeoutMillis;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
        prober.shutdown();
        boolean quiet = await(prober, left(deadline));
        List<DurableMap<?>> busy = new ArrayList<>();
        for (DurableMap<?> m : maps) {
            if (!m.close(left(deadline))) busy.add(m);
        }
        compactor.shutdown();
        quiet &= await(compactor, left(deadline));
        writers.shutdown();
        quiet &= await(writers, left(deadline));
        if (quiet && busy.isEmpty()) {
            dir.close();
            return;
        }
        LOG.error("Store: a write to {} is still running {} ms after close; the lock is kept until it ends", dir.path(), timeout);
        Thread release = daemon(() -> {
            await(prober, Long.MAX_VALUE);
            for (DurableMap<?> m : busy) m.finishClose();
            await(compactor, Long.MAX_VALUE);
            await(writers, Long.MAX_VALUE);
            dir.close();
            LOG.info("Store: the last write ended; the lock on {} is released", dir.path());
        }, "store-release-lock");
        release.start();
    }

    private static long left(long deadline) {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private static boolean await(ExecutorService e, long millis) {
        try {
            return e.awaitTermination(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return e.isTerminated();
        }
    }
}
