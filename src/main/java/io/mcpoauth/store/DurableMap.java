package io.mcpoauth.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Records of one kind, kept in memory and in one file, with group commit: a mutation is applied in memory under a
 * short lock and takes a sequence number; one waiting thread becomes the leader, writes a snapshot of everything
 * up to the newest sequence number with the crash-safe recipe of {@link SnapshotWriter}, and wakes the others.
 * {@link #update} returns only once its change is durable; if the write fails it throws
 * {@link StoreException#unavailable} and the store is marked unhealthy until a later write succeeds.
 *
 * <p>Reads ({@link #get}, {@link #values}) never block and see every applied change. Values must be immutable.
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
    private final ConcurrentSkipListMap<String, V> data = new ConcurrentSkipListMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition flushed = lock.newCondition();
    private final CommitStats stats;

    // guarded by lock
    private long seq;
    private long durableSeq;
    private long failedThroughSeq;
    private boolean flushing;
    private long generation;
    private boolean closed;
    private volatile boolean healthy = true;

    DurableMap(String kind, Class<V> type, SnapshotWriter writer, SnapshotFormat.Layout layout, Map<String, V> initial,
               long generation, CommitStats stats) {
        this.kind = kind;
        this.type = type;
        this.writer = writer;
        this.layout = layout;
        this.data.putAll(initial);
        this.generation = generation;
        this.stats = stats;
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

    /** A live, weakly consistent view in key order. */
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

    /** Writes the whole map now (used after an unhealthy period, by recovery, and by the sweeper's commit path). */
    public void flush() {
        long s;
        lock.lock();
        try {
            s = ++seq;
        } finally {
            lock.unlock();
        }
        awaitDurable(s);
    }

    private void awaitDurable(long mySeq) {
        List<Map.Entry<String, V>> snapshot;
        long snapshotSeq;
        long batch;
        long gen;
        lock.lock();
        try {
            while (true) {
                if (durableSeq >= mySeq) return;
                if (failedThroughSeq >= mySeq) {
                    throw StoreException.unavailable("could not write " + writer.target().getFileName() + " durably", null);
                }
                if (!flushing) break;
                flushed.awaitUninterruptibly();
            }
            flushing = true;
            snapshotSeq = seq;
            batch = snapshotSeq - Math.max(durableSeq, failedThroughSeq);
            gen = ++generation;
            snapshot = new ArrayList<>(data.entrySet());
        } finally {
            lock.unlock();
        }
        long start = System.nanoTime();
        IOException failure = null;
        try {
            writer.write(kind, gen, snapshot, layout);
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
            } else {
                failedThroughSeq = snapshotSeq;
                healthy = false;
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
        return new Captured<>(this, new ArrayList<>(data.entrySet()), seq, generation);
    }

    /** Returns once every change up to {@code s} is on disk; throws like {@link #update} when it cannot be. */
    void awaitDurableThrough(long s) {
        awaitDurable(s);
    }

    SnapshotFormat.Layout layout() {
        return layout;
    }

    /** Stops accepting mutations and waits (bounded) for an in-flight write to finish. */
    void close(long timeoutMillis) {
        lock.lock();
        try {
            closed = true;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (flushing) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    flushed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        } finally {
            lock.unlock();
        }
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
