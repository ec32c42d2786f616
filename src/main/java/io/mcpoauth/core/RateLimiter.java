package io.mcpoauth.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A thread-safe token-bucket limiter per key (GCRA): a burst of up to {@code permits}, refilled at
 * {@code permits / window}. Each key costs one number; at most {@code maxKeys} are kept (least recently used evicted,
 * idle ones dropped as they age out). Denied attempts consume nothing, so a key is always usable again after at most
 * one {@code window}: nobody is locked out forever. {@code now} is a parameter so callers and tests control time.
 */
public final class RateLimiter {
    /** The answer: allowed, or denied with the whole seconds to wait (at least 1) for a {@code Retry-After} header. */
    public record Decision(boolean allowed, long retryAfterSeconds) {
        static final Decision ALLOWED = new Decision(true, 0);
    }

    private final long intervalNanos;
    private final long windowNanos;
    private final int maxKeys;
    /** key -> theoretical arrival time (epoch nanos) of the next permit; access-ordered for LRU eviction. */
    private final LinkedHashMap<String, Long> tat;

    public RateLimiter(int permits, Duration window, int maxKeys) {
        if (permits < 1) throw new IllegalArgumentException("permits must be at least 1");
        if (maxKeys < 1) throw new IllegalArgumentException("maxKeys must be at least 1");
        if (window == null || window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive");
        this.windowNanos = window.toNanos();
        if (windowNanos / permits < permits + 1L) throw new IllegalArgumentException("window too short for that many permits");
        this.intervalNanos = windowNanos / permits;
        this.maxKeys = maxKeys;
        this.tat = new LinkedHashMap<>(Math.min(maxKeys, 1024) * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > RateLimiter.this.maxKeys;
            }
        };
    }

    /** Takes one permit for {@code key} (null counts as one shared key) at time {@code now}. */
    public synchronized Decision tryAcquire(String key, Instant now) {
        String k = key == null ? "" : key;
        long t = epochNanos(now);
        dropIdle(t);
        Long prev = tat.get(k);
        long next = (prev == null ? t : Math.max(prev, t)) + intervalNanos;
        long ahead = next - t;
        if (ahead > windowNanos) {
            long waitNanos = ahead - windowNanos;
            long seconds = (waitNanos + 999_999_999L) / 1_000_000_000L;
            return new Decision(false, Math.max(1, seconds));
        }
        tat.put(k, next);
        return Decision.ALLOWED;
    }

    /** Forgets {@code key}, e.g. a user name after a successful login. */
    public synchronized void reset(String key) {
        tat.remove(key == null ? "" : key);
    }

    /** How many keys are currently tracked (never more than maxKeys). */
    public synchronized int size() {
        return tat.size();
    }

    /** Removes least-recently-used keys whose bucket is full again (they behave exactly like unknown keys). */
    private void dropIdle(long t) {
        Iterator<Map.Entry<String, Long>> it = tat.entrySet().iterator();
        while (it.hasNext()) {
            if (it.next().getValue() > t) return;
            it.remove();
        }
    }

    private static long epochNanos(Instant now) {
        if (now == null) throw new IllegalArgumentException("now is required");
        try {
            return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("now is out of range", e);
        }
    }
}
