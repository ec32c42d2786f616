package io.mcpoauth.store;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counts store commits, their latency and how many changes each one made durable (group commit), for /metrics and the benchmarks. */
public final class CommitStats {
    /** Upper bounds of the latency buckets, in seconds (Prometheus style, cumulative when exported). */
    public static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    /** Upper bounds of the batch-size buckets: changes made durable by one write. */
    public static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final AtomicLongArray bucketCounts = new AtomicLongArray(BUCKETS.length + 1);
    private final AtomicLongArray batchCounts = new AtomicLongArray(BATCH_BUCKETS.length + 1);
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicLong batched = new AtomicLong();
    private final AtomicLong rolledBack = new AtomicLong();

    public void record(String kind, long elapsedNanos, boolean ok) {
        record(kind, elapsedNanos, ok, 1);
    }

    /** One write of {@code kind}; {@code batch} is how many changes it made durable (0 for a plain flush). */
    public void record(String kind, long elapsedNanos, boolean ok, long batch) {
        if (!ok) {
            failures.incrementAndGet();
            return;
        }
        commits.incrementAndGet();
        nanos.addAndGet(elapsedNanos);
        double s = elapsedNanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && s > BUCKETS[i]) i++;
        bucketCounts.incrementAndGet(i);
        long b = Math.max(0, batch);
        batched.addAndGet(b);
        int j = 0;
        while (j < BATCH_BUCKETS.length && b > BATCH_BUCKETS[j]) j++;
        batchCounts.incrementAndGet(j);
    }

    /** {@code changes} refused and undone because the write they waited for failed (or one before it). */
    public void recordRollback(long changes) {
        rolledBack.addAndGet(changes);
    }

    /** Changes refused and rolled back so far: a failed write changes nothing, in memory or on disk. */
    public long rolledBackChanges() {
        return rolledBack.get();
    }

    /** Changes made durable by all successful commits together (the batch-size sum). */
    public long batchedChanges() {
        return batched.get();
    }

    /** Count of commits in batch bucket {@code i} (non-cumulative); index {@code BATCH_BUCKETS.length} is +Inf. */
    public long batchBucket(int i) {
        return batchCounts.get(i);
    }

    public long commits() {
        return commits.get();
    }

    public long failures() {
        return failures.get();
    }

    public double totalSeconds() {
        return nanos.get() / 1e9;
    }

    /** Count of commits in bucket {@code i} (non-cumulative); index {@code BUCKETS.length} is +Inf. */
    public long bucket(int i) {
        return bucketCounts.get(i);
    }
}
