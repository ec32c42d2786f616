package io.mcpoauth.resource.gateway;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one upstream server since start, for {@code /metrics} and {@code servers list}: tool calls, failed
 * ones, a latency histogram (cumulative buckets, Prometheus style) and the stdio processes running.
 */
public final class ServerStats {
    /** Upper bounds of the latency buckets, in seconds (+Inf implied). */
    public static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final String name;
    private final String transport;
    private final LongAdder calls = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS.length + 1);
    private final LongAdder nanos = new LongAdder();
    private final java.util.function.IntSupplier processes;

    ServerStats(String name, String transport, java.util.function.IntSupplier processes) {
        this.name = name;
        this.transport = transport;
        this.processes = processes;
    }

    void record(long elapsedNanos, boolean failed) {
        calls.increment();
        if (failed) errors.increment();
        nanos.add(elapsedNanos);
        double s = elapsedNanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && s > BUCKETS[i]) i++;
        buckets.incrementAndGet(i);
    }

    public String name() {
        return name;
    }

    /** {@code http} or {@code stdio}. */
    public String transport() {
        return transport;
    }

    public long calls() {
        return calls.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public double secondsSum() {
        return nanos.sum() / 1e9;
    }

    /** Calls that took at most {@code BUCKETS[i]} (cumulative); index {@code BUCKETS.length} is +Inf (= calls). */
    public long cumulative(int i) {
        long n = 0;
        for (int j = 0; j <= i && j < buckets.length(); j++) n += buckets.get(j);
        return n;
    }

    public int processes() {
        return processes.getAsInt();
    }
}
