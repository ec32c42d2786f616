package io.mcpoauth.core;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A thread-safe token-bucket limiter per key (GCRA): a burst of up to {@code burst} (by default {@code permits}),
 * refilled at {@code permits / window}. Each key costs one number; at most {@code maxKeys} are kept (least recently
 * used evicted, idle ones dropped as they age out). Denied attempts consume nothing, so a key is always usable again
 * after at most one {@code window}: nobody is locked out forever. Elapsed time comes from a monotonic {@link Ticker}
 * (never the wall clock: a clock step must not lengthen or shorten a wait); tests pass one they move by hand.
 */
public final class RateLimiter {
    /** The answer: allowed, or denied with the whole seconds to wait (at least 1) for a {@code Retry-After} header. */
    public record Decision(boolean allowed, long retryAfterSeconds) {
        static final Decision ALLOWED = new Decision(true, 0);
    }

    private final long intervalNanos;
    private final long toleranceNanos;
    private final int maxKeys;
    private final Ticker ticker;
    /** key -> theoretical arrival time (ticker nanos) of the next permit; access-ordered for LRU eviction. */
    private final LinkedHashMap<String, Long> tat;

    public RateLimiter(int permits, Duration window, int maxKeys) {
        this(permits, window, permits, maxKeys, Ticker.SYSTEM);
    }

    public RateLimiter(int permits, Duration window, int maxKeys, Ticker ticker) {
        this(permits, window, permits, maxKeys, ticker);
    }

    /**
     * @param permits how many attempts per {@code window} on average
     * @param burst   how many may come at once (at most {@code permits}): a small burst spreads the same budget out
     */
    public RateLimiter(int permits, Duration window, int burst, int maxKeys, Ticker ticker) {
        if (permits < 1) throw new IllegalArgumentException("permits must be at least 1");
        if (burst < 1 || burst > permits) throw new IllegalArgumentException("burst must be between 1 and permits");
        if (maxKeys < 1) throw new IllegalArgumentException("maxKeys must be at least 1");
        if (window == null || window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive");
        if (ticker == null) throw new IllegalArgumentException("ticker is required");
        long windowNanos = window.toNanos();
        if (windowNanos / permits < permits + 1L) throw new IllegalArgumentException("window too short for that many permits");
        this.intervalNanos = windowNanos / permits;
        this.toleranceNanos = intervalNanos * burst;
        this.maxKeys = maxKeys;
        this.ticker = ticker;
        this.tat = new LinkedHashMap<>(Math.min(maxKeys, 1024) * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > RateLimiter.this.maxKeys;
            }
        };
    }

    /** Takes one permit for {@code key} (null counts as one shared key) now. */
    public Decision tryAcquire(String key) {
        return decide(key, true);
    }

    /** Whether {@link #tryAcquire} would allow {@code key} now, taking nothing. */
    public Decision check(String key) {
        return decide(key, false);
    }

    private synchronized Decision decide(String key, boolean take) {
        String k = key == null ? "" : key;
        long t = ticker.nanos();
        dropIdle(t);
        Long prev = tat.get(k);
        long next = (prev == null || prev - t < 0 ? t : prev) + intervalNanos;
        long ahead = next - t;
        if (ahead > toleranceNanos) {
            long waitNanos = ahead - toleranceNanos;
            long seconds = (waitNanos + 999_999_999L) / 1_000_000_000L;
            return new Decision(false, Math.max(1, seconds));
        }
        if (take) tat.put(k, next);
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
            if (it.next().getValue() - t > 0) return;
            it.remove();
        }
    }
}
