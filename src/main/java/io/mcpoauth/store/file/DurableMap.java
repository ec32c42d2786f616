package io.mcpoauth.store.file;

import io.mcpoauth.store.CommitStats;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records of one kind, kept in memory and in one file, with group commit. A transaction runs under a short lock and
 * queues its changes as a pending batch; when no write is under way, a waiting caller hands every pending batch to one
 * write, which runs on a writer thread of the store and wakes the callers when it is done. {@link #update} returns only
 * once its change is durable, and waits at most the commit timeout: a write that hangs in the kernel (a disk that stops
 * answering) cannot be called back, but its callers get an answer, and while it hangs new changes are refused at once.
 * No file I/O runs under the lock (a write, a compaction's switch to a new segment and the probe's look at the files
 * mark the map busy instead), so no caller, and not {@link #close}, waits on the lock behind a disk.
 *
 * <p>A change becomes visible only once it is durable: {@link #get}, {@link #values} and {@link #size} read the
 * committed records, which a change joins only after its write succeeded. A later transaction does see the pending
 * changes (so two concurrent rotations of one token are still decided one after the other), and then depends on
 * them: it is acknowledged only with them. A write that fails rolls back completely: every pending batch (those in
 * the failed write and those queued behind it, which may have read its state) is dropped from memory and refused
 * with {@link StoreException#unavailable}, and nothing of it stays on disk (the journal frame is cut off; a
 * snapshot renamed into place whose directory fsync failed is replaced by the previous generation again). A retry
 * then does exactly what the first attempt should have done. The map stays unhealthy until a full rewrite from the
 * committed records succeeds: the next commit, or the store's periodic probe ({@link #probe}).
 *
 * <p>Two ways to make a batch durable, chosen per file:
 * <ul>
 * <li>snapshot: rewrite the whole file with the crash-safe recipe of {@link SnapshotWriter} (small, rarely changed
 * files such as {@code clients.json});
 * <li>journal: append one frame holding the batch's changed records to a {@link Journal} segment and fdatasync it;
 * a background compaction rewrites the readable snapshot and drops older segments once the journal has grown
 * (hot files such as {@code refresh_tokens.json}, where a whole-file rewrite per commit would not scale).
 * </ul>
 *
 * <p>Reads never block. Values must be immutable. Records are held in a hash map (a read is one lookup, also with
 * 100,000 records); files list them sorted by key.
 */
public final class DurableMap<V> {
    private static final Logger LOG = LoggerFactory.getLogger(DurableMap.class);

    /** A transaction: reads see its own writes (and changes still pending); nothing is applied if the function throws. */
    public interface Tx<V> {
        V get(String key);

        void put(String key, V value);

        void remove(String key);
    }

    /** Checked before every write; {@link #problem} is the cheap, sticky answer (null while writes may go on). */
    interface Guard {
        void check() throws IOException;

        String problem();
    }

    static final Guard NO_GUARD = new Guard() {
        @Override
        public void check() {
        }

        @Override
        public String problem() {
            return null;
        }
    };

    private enum Status { PENDING, DURABLE, FAILED }

    /** The changes of one transaction (a removal maps to null), or a request for a full rewrite ({@link #flush}). */
    private static final class Batch<V> {
        final long seq;
        final Map<String, V> changes;
        final boolean snapshot;
        Status status = Status.PENDING;
        boolean taken; // in the write under way
        String failure;
        Throwable cause;

        Batch(long seq, Map<String, V> changes, boolean snapshot) {
            this.seq = seq;
            this.changes = changes;
            this.snapshot = snapshot;
        }
    }

    /** The newest pending value of a key (null: removed) and the batch it belongs to. */
    private record Pending<V>(V value, Batch<V> batch) {}

    private static final java.util.Comparator<Map.Entry<String, ?>> BY_KEY = (a, b) -> a.getKey().compareTo(b.getKey());

    private final String kind;
    private final Class<V> type;
    private final SnapshotWriter writer;
    private final SnapshotFormat.Layout layout;
    private final ConcurrentHashMap<String, V> data; // committed: durable
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition flushed = lock.newCondition();
    private final CommitStats stats;
    private final Journal journal;
    private final JournalCodec<V> codec;
    private final java.util.concurrent.Executor compactor;
    private final long compactBytes;
    private final Guard guard;
    private final Executor io;
    private final long commitTimeoutNanos;

    // guarded by lock
    private final ArrayDeque<Batch<V>> pending = new ArrayDeque<>();
    private final HashMap<String, Pending<V>> overlay = new HashMap<>();
    private boolean needsSnapshot;
    private boolean compacting;
    /** The files are busy: a write, a compaction switching segments, or the probe looking at them (one at a time). */
    private boolean flushing;
    /** A caller gave up waiting for the write under way (the disk may hang): changes are refused until it ends. */
    private boolean stuck;
    private boolean closed;
    private Future<?> closing; // the final snapshot, written by close()
    private long seq;
    private long generation;

    private volatile String problem;
    private volatile Instant failingSince;

    /**
     * A map of {@code kind} records in {@code writer}'s file; journaled when {@code journal} is given (open on a fresh
     * segment; {@code compactBytes} is the growth that triggers a compaction on {@code compactor}). Every write runs on
     * {@code io}, never on a caller's thread, and a caller waits for it at most {@code commitTimeoutMillis}.
     */
    DurableMap(String kind, Class<V> type, SnapshotWriter writer, SnapshotFormat.Layout layout, Map<String, V> initial,
               long generation, CommitStats stats, Journal journal, java.util.concurrent.Executor compactor, long compactBytes,
               Guard guard, Executor io, long commitTimeoutMillis) {
        this.kind = kind;
        this.type = type;
        this.writer = writer;
        this.layout = layout;
        // The map a file was loaded into is taken over as it is (no second copy of 100,000 records).
        this.data = initial instanceof ConcurrentHashMap<String, V> loaded ? loaded : new ConcurrentHashMap<>(initial);
        this.generation = generation;
        this.stats = stats;
        this.journal = journal;
        this.codec = journal == null ? null : new JournalCodec<>(type);
        this.compactor = compactor;
        this.compactBytes = compactBytes;
        this.guard = guard == null ? NO_GUARD : guard;
        this.io = io;
        this.commitTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(commitTimeoutMillis);
    }

    public boolean journaled() {
        return journal != null;
    }

    public String kind() {
        return kind;
    }

    public Class<V> type() {
        return type;
    }

    public Path file() {
        return writer.target();
    }

    /** The committed (durable) record, or null. */
    public V get(String key) {
        return data.get(key);
    }

    public int size() {
        return data.size();
    }

    /** A live, weakly consistent view of the committed records, in no particular order. */
    public Collection<V> values() {
        return data.values();
    }

    /** True while the last write succeeded and the file on disk is the one this map wrote. */
    public boolean healthy() {
        return problem == null;
    }

    /** Why this file is not healthy ({@code null} when it is). */
    public String problem() {
        return problem;
    }

    /** Since when it has been failing ({@code null} when healthy). */
    public Instant failingSince() {
        return problem == null ? null : failingSince;
    }

    /**
     * Runs {@code fn} atomically (against the committed records and the changes still pending), then waits until its
     * changes are on disk. A transaction that changes nothing waits for the pending changes it read, and fails with them.
     * Returns or throws within the commit timeout, whatever the disk does: the write runs on a writer thread, and a
     * caller that has waited that long gives up (a write that hangs in the kernel cannot be called back).
     *
     * @throws StoreException (unavailable) when the change could not be made durable: then nothing of it was applied;
     *                        except when the write of this very change was still under way after the commit timeout (the
     *                        message says so): it may still be made durable
     */
    public <R> R update(Function<Tx<V>, R> fn) {
        Batch<V> mine;
        R result;
        lock.lock();
        try {
            refuseWhenClosedOrGone();
            TxImpl tx = new TxImpl();
            result = fn.apply(tx);
            if (!tx.changes.isEmpty()) {
                mine = new Batch<>(++seq, tx.changes, false);
                pending.add(mine);
                for (Map.Entry<String, V> c : tx.changes.entrySet()) overlay.put(c.getKey(), new Pending<>(c.getValue(), mine));
            } else {
                mine = tx.dependsOn;
            }
        } finally {
            lock.unlock();
        }
        if (mine != null) awaitDurable(mine);
        return result;
    }

    /** Writes the whole map now (a full snapshot, also in journal mode), with every pending change. */
    public void flush() {
        Batch<V> b;
        lock.lock();
        try {
            refuseWhenClosedOrGone();
            b = new Batch<>(++seq, Map.of(), true);
            pending.add(b);
        } finally {
            lock.unlock();
        }
        awaitDurable(b);
    }

    private void refuseWhenClosedOrGone() {
        if (closed) throw StoreException.unavailable("the store is closed (the server is shutting down); nothing was changed", null);
        String gone = guard.problem();
        if (gone != null) throw StoreException.unavailable(gone + "; nothing was changed", null);
        if (stuck) {
            throw StoreException.unavailable("a write to " + writer.target().getFileName() + " has been under way for more than "
                    + timeoutWords() + " (the disk may hang); nothing was changed", null);
        }
    }

    private String timeoutWords() {
        long ms = TimeUnit.NANOSECONDS.toMillis(commitTimeoutNanos);
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private static final String CLOSED_BEFORE_WRITE =
            "the store closed (the server is shutting down) before this change was written; nothing was changed";

    /** The state one write works from, taken under the lock. */
    private record Write<V>(List<Batch<V>> taking, long lastSeq, boolean full, long gen, List<Map.Entry<String, V>> snapshot,
                            Map<String, V> changes) {}

    /**
     * Waits until {@code b} is decided, at most the commit timeout. When no write is under way, starts one (on the
     * writer thread) with every pending batch; group commit: whatever queued meanwhile goes into the next one.
     */
    private void awaitDurable(Batch<V> b) {
        long deadline = System.nanoTime() + commitTimeoutNanos;
        boolean interrupted = false;
        lock.lock();
        try {
            while (true) {
                if (b.status == Status.DURABLE) return;
                if (b.status == Status.FAILED) throw StoreException.unavailable(b.failure, b.cause);
                if (!flushing && !(compacting && needsSnapshot)) {
                    startWrite();
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) throw gaveUp(b);
                try {
                    flushed.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true; // the write decides, not the caller: wait on, and keep the interrupt for later
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Under the lock, with no write under way and {@code pending} not empty: hands every pending batch to a write. */
    private void startWrite() {
        if (closed) {
            rollBack(Long.MIN_VALUE, null, CLOSED_BEFORE_WRITE);
            flushed.signalAll();
            return;
        }
        List<Batch<V>> taking = new ArrayList<>(pending);
        long lastSeq = taking.get(taking.size() - 1).seq;
        boolean full = journal == null || needsSnapshot;
        for (Batch<V> t : taking) full |= t.snapshot;
        List<Map.Entry<String, V>> snapshot = null;
        Map<String, V> changes = null;
        if (full) {
            snapshot = new ArrayList<>(data.size() + overlay.size());
            for (Map.Entry<String, V> e : data.entrySet()) {
                if (!overlay.containsKey(e.getKey())) snapshot.add(e);
            }
            for (Map.Entry<String, Pending<V>> e : overlay.entrySet()) {
                if (e.getValue().value() != null) snapshot.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue().value()));
            }
        } else {
            changes = new LinkedHashMap<>();
            for (Batch<V> t : taking) changes.putAll(t.changes);
        }
        Write<V> w = new Write<>(taking, lastSeq, full, full ? generation + 1 : generation, snapshot, changes);
        try {
            io.execute(() -> write(w));
        } catch (RejectedExecutionException e) { // the store is closing or crashed (tests): nothing writes any more
            rollBack(Long.MIN_VALUE, null, CLOSED_BEFORE_WRITE);
            flushed.signalAll();
            return;
        }
        if (full) generation++;
        for (Batch<V> t : taking) t.taken = true;
        flushing = true;
    }

    /** On the writer thread: makes {@code w} durable (or fails it, rolling back), then wakes the waiting callers. */
    private void write(Write<V> w) {
        long start = System.nanoTime();
        Throwable failure = null;
        boolean compact = false;
        try {
            if (w.snapshot() != null) w.snapshot().sort(BY_KEY);
            guard.check();
            if (w.changes() != null) {
                journal.append(codec.encode(w.lastSeq(), w.changes().entrySet()));
                compact = journal.bytes() >= compactBytes;
            } else if (journal != null) {
                rewriteAndRestartJournal(w.gen(), w.snapshot());
            } else {
                writer.write(kind, w.gen(), w.snapshot(), layout);
            }
        } catch (Throwable e) { // an Error too: the batches must be decided, or their callers would wait for nothing
            failure = e;
            if (e instanceof Error) LOG.error("Store: writing {} failed", writer.target().getFileName(), e);
        }
        long elapsed = System.nanoTime() - start;
        long batch = 0;
        lock.lock();
        try {
            flushing = false;
            stuck = false;
            if (failure == null) {
                for (Batch<V> t : w.taking()) {
                    for (Map.Entry<String, V> c : t.changes.entrySet()) {
                        if (c.getValue() == null) data.remove(c.getKey());
                        else data.put(c.getKey(), c.getValue());
                    }
                    t.status = Status.DURABLE;
                    if (!t.snapshot) batch++;
                }
                for (int i = 0; i < w.taking().size(); i++) pending.poll();
                overlay.values().removeIf(p -> p.batch().status == Status.DURABLE);
                if (w.full()) needsSnapshot = false;
                markHealthy();
            } else {
                String why = DataDirectory.describe(failure);
                rollBack(w.lastSeq(), "could not write " + writer.target().getFileName() + " durably: " + why + "; nothing was changed",
                        "not written: an earlier change to " + writer.target().getFileName() + " that it may depend on could not be"
                                + " made durable (" + why + "); nothing was changed");
                for (Batch<V> t : w.taking()) t.cause = failure;
                if (journal != null) needsSnapshot = true; // the journal or snapshot may be left behind: rewrite everything
                markFailing("writing " + writer.target().getFileName() + " failed: " + why);
            }
            if (compact && !compacting && compactor != null && !closed) {
                compacting = true;
                try {
                    compactor.execute(this::compact);
                } catch (RejectedExecutionException e) {
                    compacting = false; // closing
                }
            }
            if (stats != null) stats.record(kind, elapsed, failure == null, batch); // before a caller can see the outcome
            flushed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: {@code b}'s caller has waited the commit timeout. The write under way is taken to hang: every
     * batch queued behind it is refused (none of it was written, and none will be), new changes are refused until it
     * ends, and the map reports it. A batch in that write is not decided yet: its caller is told so.
     */
    private StoreException gaveUp(Batch<V> b) {
        String file = writer.target().getFileName().toString();
        stuck = true;
        markFailing("a write to " + file + " has not finished after " + timeoutWords() + " (the disk may hang); changes are"
                + " refused until it ends");
        refuseQueued("not written: the write before it to " + file + " had not finished after " + timeoutWords()
                + " (the disk may hang); nothing was changed");
        flushed.signalAll();
        if (b.status == Status.FAILED) return StoreException.unavailable(b.failure, null);
        return StoreException.unavailable("the write of this change to " + file + " had not finished after " + timeoutWords()
                + " (the disk may hang); it may still be made durable, or fail", null);
    }

    /** Under the lock: refuses every pending batch not in the write under way (the overlay keeps that write's changes). */
    private void refuseQueued(String why) {
        long changes = 0;
        boolean any = false;
        for (java.util.Iterator<Batch<V>> it = pending.iterator(); it.hasNext(); ) {
            Batch<V> t = it.next();
            if (t.taken) continue;
            t.status = Status.FAILED;
            t.failure = why;
            changes += t.changes.size();
            any = true;
            it.remove();
        }
        if (!any) return;
        overlay.clear();
        for (Batch<V> t : pending) {
            for (Map.Entry<String, V> c : t.changes.entrySet()) overlay.put(c.getKey(), new Pending<>(c.getValue(), t));
        }
        if (stats != null && changes > 0) stats.recordRollback(changes);
    }

    /**
     * Under the lock: drops every pending batch; those up to {@code inWriteThrough} failed in the write with
     * {@code inWrite}, the others with {@code behind}.
     */
    private void rollBack(long inWriteThrough, String inWrite, String behind) {
        long changes = 0;
        for (Batch<V> t : pending) {
            t.status = Status.FAILED;
            t.failure = t.seq <= inWriteThrough ? inWrite : behind;
            changes += t.changes.size();
        }
        pending.clear();
        overlay.clear();
        if (stats != null && changes > 0) stats.recordRollback(changes);
    }

    /**
     * Journal mode, synchronous (as a leader, after a failure or for {@link #flush}): first a new, empty segment (so a
     * snapshot never names a segment that does not exist yet), then the snapshot of everything pointing at it, then
     * the older segments are deleted. If the snapshot fails, the older snapshot still applies and the new empty
     * segment continues the journal without a gap.
     */
    private void rewriteAndRestartJournal(long gen, List<Map.Entry<String, V>> snapshot) throws IOException {
        long next = journal.segment() + 1;
        journal.startSegment(next);
        writer.write(kind, gen, snapshot, layout, next);
        try {
            journal.deleteBefore(next);
        } catch (IOException e) {
            // the snapshot is durable: older segments are never replayed again and are deleted at the next start
            LOG.warn("Could not delete old journal segments of {}: {}", writer.target().getFileName(), DataDirectory.describe(e));
        }
    }

    /**
     * Journal mode, in the background: switch appends to a new segment and capture the committed records at that
     * instant (under the lock, with no append in progress: they are exactly what the older segments hold), then write
     * the snapshot pointing at the new segment and delete the older ones. Commits continue meanwhile; a change captured
     * in the snapshot may also be replayed from the new segment, which is harmless since every change carries the
     * whole record.
     */
    private void compact() {
        List<Map.Entry<String, V>> snapshot = null;
        long next;
        long gen = 0;
        Throwable failure = null;
        lock.lock();
        try {
            while (flushing) flushed.awaitUninterruptibly(); // a background thread: it may wait for a write that hangs
            if (closed || needsSnapshot) {
                compacting = false;
                flushed.signalAll();
                return;
            }
            flushing = true; // no append while the journal switches to a new segment (outside the lock: it is I/O)
            next = journal.segment() + 1;
        } finally {
            lock.unlock();
        }
        try {
            guard.check();
            journal.startSegment(next);
        } catch (Throwable e) {
            failure = e;
        }
        lock.lock();
        try {
            flushing = false;
            stuck = false;
            flushed.signalAll();
            if (failure == null) {
                // exactly what the older segments hold: no append happened since the switch
                snapshot = new ArrayList<>(data.entrySet());
                gen = ++generation;
            }
        } catch (Throwable e) {
            failure = e;
        } finally {
            if (failure != null) {
                compacting = false;
                needsSnapshot = true;
                markFailing("compacting the journal of " + writer.target().getFileName() + " failed: " + DataDirectory.describe(failure));
            }
            lock.unlock();
        }
        if (failure != null) return;
        // Appends go on while the snapshot is written; a leader that must rewrite the snapshot itself waits (awaitDurable).
        try {
            snapshot.sort(BY_KEY);
            guard.check();
            writer.write(kind, gen, snapshot, layout, next);
            try {
                journal.deleteBefore(next);
            } catch (IOException e) {
                LOG.warn("Could not delete old journal segments of {}: {}", writer.target().getFileName(), DataDirectory.describe(e));
            }
        } catch (Throwable e) {
            lock.lock();
            try {
                needsSnapshot = true;
                markFailing("compacting the journal of " + writer.target().getFileName() + " failed: " + DataDirectory.describe(e));
            } finally {
                lock.unlock();
            }
        } finally {
            lock.lock();
            try {
                compacting = false;
                stuck = false;
                flushed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * For the store's periodic probe: notices a file deleted, replaced or changed behind the server's back (it is then
     * unhealthy), and while unhealthy tries a full rewrite from the committed records, which makes it healthy again
     * once the disk works. Never throws.
     */
    void probe() {
        boolean look;
        lock.lock();
        try {
            if (closed) return;
            look = problem == null && !flushing && !compacting;
            if (look) flushing = true; // the files are looked at with no write under way, and not under the lock (I/O)
        } finally {
            lock.unlock();
        }
        if (look) {
            String changed = null;
            try {
                changed = writer.changedOnDisk();
                if (changed != null) changed = writer.target() + " " + changed + " while the server was running";
                else if (journal != null) changed = journal.problemOnDisk();
            } catch (Throwable e) {
                LOG.warn("Store: cannot check {}: {}", writer.target().getFileName(), DataDirectory.describe(e));
            } finally {
                lock.lock();
                try {
                    flushing = false;
                    stuck = false;
                    if (changed != null) {
                        needsSnapshot = true;
                        markFailing(changed + "; it is rewritten from memory");
                    }
                    flushed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
        if (problem == null || guard.problem() != null) return;
        try {
            flush(); // bounded by the commit timeout, and refused at once while a write hangs
        } catch (StoreException e) {
            // still failing: the failed write recorded why
        }
    }

    private void markFailing(String why) {
        if (problem == null) {
            failingSince = Instant.now();
            LOG.error("Store: {} (writes to it are refused until a rewrite succeeds; retried in the background)", why);
        } else if (!problem.equals(why)) {
            LOG.warn("Store: {}", why);
        }
        problem = why;
    }

    private void markHealthy() {
        String was = problem;
        if (was != null) {
            LOG.info("Store: {} is written again (failing since {}: {})", writer.target().getFileName(), failingSince, was);
            problem = null;
        }
    }

    /** The records, sequence number and generation as of one instant; taken with the lock held (see {@link Backup}). */
    record Captured<V>(DurableMap<V> map, List<Map.Entry<String, V>> records, long seq, long generation) {}

    void lockForCapture() {
        lock.lock();
    }

    void unlockAfterCapture() {
        lock.unlock();
    }

    /** Call between {@link #lockForCapture} and {@link #unlockAfterCapture}: the committed (durable) records. */
    Captured<V> captureLocked() {
        List<Map.Entry<String, V>> records = new ArrayList<>(data.entrySet());
        records.sort(BY_KEY);
        return new Captured<>(this, records, seq, generation);
    }

    SnapshotFormat.Layout layout() {
        return layout;
    }

    SnapshotWriter writer() {
        return writer;
    }

    /**
     * Stops accepting mutations and waits (bounded) for in-flight writes to finish; changes still queued are refused. A
     * journaled map then writes a final snapshot so the next start reads no journal.
     *
     * @return false when a write or compaction of this map may still be running (the timeout passed)
     */
    boolean close(long timeoutMillis) {
        boolean finalSnapshot;
        boolean idle;
        List<Map.Entry<String, V>> snapshot = null;
        long gen = 0;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            closed = true;
            while (flushing || compacting) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    flushed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            idle = !flushing && !compacting;
            if (!flushing) rollBack(Long.MIN_VALUE, null, CLOSED_BEFORE_WRITE);
            else refuseQueued(CLOSED_BEFORE_WRITE); // the write under way decides its own batches
            flushed.signalAll();
            finalSnapshot = journal != null && idle && guard.problem() == null;
            if (finalSnapshot) {
                gen = ++generation;
                snapshot = new ArrayList<>(data.entrySet());
            }
            if (idle) flushing = true; // nothing else writes from now on
        } finally {
            lock.unlock();
        }
        if (journal == null || !idle) return idle; // not idle: finishClose() closes the journal once the write has ended
        List<Map.Entry<String, V>> last = snapshot;
        long lastGen = gen;
        FutureTask<Void> finalWrite = new FutureTask<>(() -> {
            if (finalSnapshot) {
                try {
                    last.sort(BY_KEY);
                    guard.check();
                    rewriteAndRestartJournal(lastGen, last);
                } catch (Throwable e) {
                    // the journal still holds everything; the next start replays it
                    LOG.warn("Could not write the final snapshot of {}: {}", writer.target().getFileName(), DataDirectory.describe(e));
                }
            }
            journal.close();
            return null;
        });
        lock.lock();
        try {
            closing = finalWrite;
        } finally {
            lock.unlock();
        }
        try {
            io.execute(finalWrite); // on a writer thread: a disk that hangs must not hang close()
        } catch (RejectedExecutionException e) {
            finalWrite.run();
        }
        try {
            finalWrite.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return finalWrite.isDone();
        } catch (ExecutionException e) {
            return true; // it logged why
        }
    }

    /** After {@link #close} returned false: waits for the write or compaction still running, then closes the journal. */
    void finishClose() {
        Future<?> last;
        lock.lock();
        try {
            last = closing;
            if (last == null) {
                while (flushing || compacting) flushed.awaitUninterruptibly();
                flushing = true;
                rollBack(Long.MIN_VALUE, null, CLOSED_BEFORE_WRITE);
                flushed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (last != null) {
            awaitUninterruptibly(last); // the final snapshot closes the journal itself
            return;
        }
        if (journal != null) journal.close();
    }

    private static void awaitUninterruptibly(Future<?> f) {
        boolean interrupted = false;
        while (true) {
            try {
                f.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                break;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Closes files without writing anything (see {@link FileStore#crashForTest}). */
    void abandon() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        if (journal != null) journal.close();
    }

    private final class TxImpl implements Tx<V> {
        final Map<String, V> changes = new LinkedHashMap<>();
        Batch<V> dependsOn;

        @Override
        public V get(String key) {
            if (changes.containsKey(key)) return changes.get(key);
            return current(key);
        }

        private V current(String key) {
            Pending<V> p = overlay.get(key);
            if (p == null) return data.get(key);
            if (dependsOn == null || p.batch().seq > dependsOn.seq) dependsOn = p.batch();
            return p.value();
        }

        @Override
        public void put(String key, V value) {
            if (key == null || value == null) throw new IllegalArgumentException("null key or value");
            changes.put(key, value);
        }

        @Override
        public void remove(String key) {
            if (changes.containsKey(key) ? changes.get(key) != null : current(key) != null) {
                changes.put(key, null);
            }
        }
    }
}
