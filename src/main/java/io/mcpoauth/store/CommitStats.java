package io.mcpoauth.store;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counts store commits and their latency, for /metrics and the benchmarks. */
public final class CommitStats {
    /** Upper bounds of the latency buckets, in seconds (Prometheus style, cumulative when exported). */
    public static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

    private final AtomicLongArray bucketCounts = new AtomicLongArray(BUCKETS.length + 1);
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();

    void record(String kind, long elapsedNanos, boolean ok) {
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
