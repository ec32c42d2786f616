package io.mcpoauth.store.file;

import io.mcpoauth.store.CommitStats;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Records of one kind, kept in memory and in one file, with group commit: a mutation is applied in memory under a
 * short lock and takes a sequence number; one waiting thread becomes the leader, makes everything up to the newest
 * sequence number durable, and wakes the others. {@link #update} returns only once its change is durable; if the
 * write fails it throws {@link StoreException#unavailable} and the store is marked unhealthy until a later write
 * succeeds (which then rewrites the whole file from memory).
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
 * <p>Reads ({@link #get}, {@link #values}) never block and see every applied change. Values must be immutable.
 * Records are held in a hash map (a read is one lookup, also with 100,000 records); files list them sorted by key.
 */
public final class DurableMap<V> {

    /** A transaction: reads see its own writes; nothing is applied if the function throws. */
    public interface Tx<V> {
        V get(String key);

        void put(String key, V value);

        void remove(String key);
    }

    private final String kind;
    private final Class<V> type;
    private final SnapshotWriter writer;
    private final SnapshotFormat.Layout layout;
    private static final java.util.Comparator<Map.Entry<String, ?>> BY_KEY = (a, b) -> a.getKey().compareTo(b.getKey());
    private final ConcurrentHashMap<String, V> data;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition flushed = lock.newCondition();
    private final CommitStats stats;
    private final Journal journal;
    private final JournalCodec<V> codec;
    private final java.util.concurrent.Executor compactor;
    private final long compactBytes;

    // guarded by lock
    private List<Map.Entry<String, V>> pending = new ArrayList<>();
    private boolean needsSnapshot;
    private boolean compacting;
    private long seq;
    private long durableSeq;
    private long failedThroughSeq;
    private long failedWrites;
    private boolean flushing;
    private long generation;
    private boolean closed;
    private volatile boolean healthy = true;

    DurableMap(String kind, Class<V> type, SnapshotWriter writer, SnapshotFormat.Layout layout, Map<String, V> initial,
               long generation, CommitStats stats) {
        this(kind, type, writer, layout, initial, generation, stats, null, null, 0);
    }

    /** A journaled map: {@code journal} is open on a fresh segment; {@code compactBytes} is the growth that triggers compaction. */
    DurableMap(String kind, Class<V> type, SnapshotWriter writer, SnapshotFormat.Layout layout, Map<String, V> initial,
               long generation, CommitStats stats, Journal journal, java.util.concurrent.Executor compactor, long compactBytes) {
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

    public V get(String key) {
        return data.get(key);
    }

    public int size() {
        return data.size();
    }

    /** A live, weakly consistent view, in no particular order. */
    public Collection<V> values() {
        return data.values();
    }

    public boolean healthy() {
        return healthy;
    }

    /**
     * Runs {@code fn} atomically against the in-memory state, then waits until the result is on disk.
     * A transaction that changes nothing still waits for any earlier change it may have observed.
     */
    public <R> R update(Function<Tx<V>, R> fn) {
        long mySeq;
        R result;
        lock.lock();
        try {
            if (closed) throw StoreException.unavailable("the store is closed (the server is shutting down)", null);
            TxImpl tx = new TxImpl();
            result = fn.apply(tx);
            if (!tx.changes.isEmpty()) {
                for (Map.Entry<String, V> c : tx.changes.entrySet()) {
                    if (c.getValue() == null) data.remove(c.getKey());
                    else data.put(c.getKey(), c.getValue());
                    if (journal != null) pending.add(new java.util.AbstractMap.SimpleImmutableEntry<>(c.getKey(), c.getValue()));
                }
                seq++;
            }
            mySeq = seq;
        } finally {
            lock.unlock();
        }
        awaitDurable(mySeq);
        return result;
    }

    /** Writes the whole map now (a full snapshot, also in journal mode). */
    public void flush() {
        long s;
        lock.lock();
        try {
            s = ++seq;
            needsSnapshot = true;
        } finally {
            lock.unlock();
        }
        awaitDurable(s);
    }

    private void awaitDurable(long mySeq) {
        List<Map.Entry<String, V>> snapshot;
        List<Map.Entry<String, V>> changes;
        long snapshotSeq;
        long batch;
        long gen;
        lock.lock();
        try {
            long failuresSeen = failedWrites;
            while (true) {
                if (durableSeq >= mySeq) return;
                if (failedThroughSeq >= mySeq) {
                    if (failedWrites != failuresSeen) {
                        throw StoreException.unavailable("could not write " + writer.target().getFileName() + " durably", null);
                    }
                    // The write this caller depends on failed before it arrived (it changed nothing itself, but saw
                    // state that is not on disk): try again with a fresh commit, which rewrites everything.
                    mySeq = ++seq;
                    continue;
                }
                if (!flushing && !(compacting && needsSnapshot)) break;
                flushed.awaitUninterruptibly();
            }
            flushing = true;
            snapshotSeq = seq;
            batch = snapshotSeq - Math.max(durableSeq, failedThroughSeq);
            if (journal == null || needsSnapshot) {
                gen = ++generation;
                snapshot = new ArrayList<>(data.entrySet());
                changes = null;
            } else {
                gen = generation;
                snapshot = null;
                changes = pending;
            }
            pending = new ArrayList<>();
        } finally {
            lock.unlock();
        }
        if (snapshot != null) snapshot.sort(BY_KEY);
        long start = System.nanoTime();
        IOException failure = null;
        boolean compact = false;
        try {
            if (changes != null) {
                journal.append(codec.encode(snapshotSeq, changes));
                compact = journal.bytes() >= compactBytes;
            } else if (journal != null) {
                rewriteAndRestartJournal(gen, snapshot);
            } else {
                writer.write(kind, gen, snapshot, layout);
            }
        } catch (IOException | RuntimeException e) {
            failure = e instanceof IOException io ? io : new IOException(e);
        }
        long elapsed = System.nanoTime() - start;
        lock.lock();
        try {
            flushing = false;
            if (failure == null) {
                durableSeq = snapshotSeq;
                healthy = true;
                if (snapshot != null) needsSnapshot = false;
            } else {
                failedThroughSeq = snapshotSeq;
                failedWrites++;
                healthy = false;
                needsSnapshot = journal != null; // the lost batch is only in memory now: the next write is a full snapshot
            }
            if (compact && !compacting && compactor != null) {
                compacting = true;
                compactor.execute(this::compact);
            }
            flushed.signalAll();
        } finally {
            lock.unlock();
        }
        if (stats != null) stats.record(kind, elapsed, failure == null, batch);
        if (failure != null) {
            throw StoreException.unavailable("could not write " + writer.target().getFileName() + " durably: " + failure.getMessage(), failure);
        }
    }

    /**
     * Journal mode, synchronous (as a leader, after a failure or for {@link #flush}): the snapshot covers every change,
     * so it is written first, pointing at a new segment; then the new segment is opened and older ones deleted.
     */
    private void rewriteAndRestartJournal(long gen, List<Map.Entry<String, V>> snapshot) throws IOException {
        long next = journal.segment() + 1;
        writer.write(kind, gen, snapshot, layout, next);
        journal.startSegment(next);
        journal.deleteBefore(next);
    }

    /**
     * Journal mode, in the background: switch appends to a new segment and capture the records at that instant
     * (under the lock, with no append in progress), then write the snapshot pointing at the new segment and delete the
     * older ones. Commits continue meanwhile; a change captured in the snapshot may also be replayed from the new
     * segment, which is harmless since every change carries the whole record.
     */
    private void compact() {
        List<Map.Entry<String, V>> snapshot;
        long next;
        long gen;
        lock.lock();
        try {
            while (flushing) flushed.awaitUninterruptibly();
            if (closed || needsSnapshot) {
                compacting = false;
                return;
            }
            next = journal.segment() + 1;
            try {
                journal.startSegment(next);
            } catch (IOException e) {
                compacting = false;
                needsSnapshot = true;
                return;
            }
            gen = ++generation;
            snapshot = new ArrayList<>(data.entrySet());
        } finally {
            lock.unlock();
        }
        // Appends go on while the snapshot is written; a leader that must rewrite the snapshot itself waits (awaitDurable).
        snapshot.sort(BY_KEY);
        try {
            writer.write(kind, gen, snapshot, layout, next);
            journal.deleteBefore(next);
        } catch (IOException | RuntimeException e) {
            lock.lock();
            try {
                needsSnapshot = true;
            } finally {
                lock.unlock();
            }
        } finally {
            lock.lock();
            try {
                compacting = false;
                flushed.signalAll();
            } finally {
                lock.unlock();
            }
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

    /** Call between {@link #lockForCapture} and {@link #unlockAfterCapture}. */
    Captured<V> captureLocked() {
        List<Map.Entry<String, V>> records = new ArrayList<>(data.entrySet());
        records.sort(BY_KEY);
        return new Captured<>(this, records, seq, generation);
    }

    /** Returns once every change up to {@code s} is on disk; throws like {@link #update} when it cannot be. */
    void awaitDurableThrough(long s) {
        awaitDurable(s);
    }

    SnapshotFormat.Layout layout() {
        return layout;
    }

    /**
     * Stops accepting mutations and waits (bounded) for in-flight writes to finish; a journaled map then writes a
     * final snapshot so the next start reads no journal.
     */
    void close(long timeoutMillis) {
        boolean finalSnapshot;
        List<Map.Entry<String, V>> snapshot = null;
        long gen = 0;
        lock.lock();
        try {
            closed = true;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
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
            finalSnapshot = journal != null && !flushing && !compacting && durableSeq == seq && pending.isEmpty();
            if (finalSnapshot) {
                gen = ++generation;
                snapshot = new ArrayList<>(data.entrySet());
                flushing = true;
            }
        } finally {
            lock.unlock();
        }
        if (journal == null) return;
        if (finalSnapshot) {
            snapshot.sort(BY_KEY);
            try {
                rewriteAndRestartJournal(gen, snapshot);
            } catch (IOException | RuntimeException e) {
                // the journal still holds everything; the next start replays it
            }
        }
        journal.close();
    }

    /** Closes files without writing anything (see {@link Store#crashForTest}). */
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
        final Map<String, V> changes = new HashMap<>();

        @Override
        public V get(String key) {
            if (changes.containsKey(key)) return changes.get(key);
            return data.get(key);
        }

        @Override
        public void put(String key, V value) {
            if (key == null || value == null) throw new IllegalArgumentException("null key or value");
            changes.put(key, value);
        }

        @Override
        public void remove(String key) {
            if (changes.containsKey(key) ? changes.get(key) != null : data.containsKey(key)) {
                changes.put(key, null);
            }
        }
    }
}
