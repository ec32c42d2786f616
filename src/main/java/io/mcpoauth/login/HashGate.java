package io.mcpoauth.login;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Bounds password hashing (PBKDF2, hundreds of milliseconds of one core each): at most {@code slots} hashes run at
 * once (about one per core), at most {@code slots} more callers wait for one, each at most {@code maxWait}, and one
 * address has at most one hash running or waiting. Anyone else is refused at once ({@link #run} returns null: the
 * caller answers 503 with Retry-After), so sign-in floods cannot pile up request threads, and one address cannot take
 * the capacity others need.
 */
final class HashGate {
    private final Semaphore running;
    private final int maxWaiting;
    private final long maxWaitNanos;
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<String, Boolean> busyAddresses = new ConcurrentHashMap<>();

    HashGate(int slots, long maxWaitMillis) {
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1");
        this.running = new Semaphore(slots, true);
        this.maxWaiting = slots;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
    }

    /** About one hash per core (at least two, so that one long hash never stops every other sign-in). */
    static HashGate perCore() {
        return new HashGate(Math.max(2, Runtime.getRuntime().availableProcessors()), 1000);
    }

    /** The work's result, or null when refused (full, or this address already has a hash running or waiting). */
    <T> T run(String addressKey, Supplier<T> work) {
        String key = addressKey == null ? "?" : addressKey;
        if (busyAddresses.putIfAbsent(key, Boolean.TRUE) != null) return null;
        try {
            if (!running.tryAcquire()) {
                if (waiting.incrementAndGet() > maxWaiting) {
                    waiting.decrementAndGet();
                    return null;
                }
                try {
                    if (!running.tryAcquire(maxWaitNanos, TimeUnit.NANOSECONDS)) return null;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                } finally {
                    waiting.decrementAndGet();
                }
            }
            try {
                return work.get();
            } finally {
                running.release();
            }
        } finally {
            busyAddresses.remove(key);
        }
    }
}
