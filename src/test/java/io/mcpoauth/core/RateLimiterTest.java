package io.mcpoauth.core;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** The limiters' monotonic time: set to the instant each call passes (time is what the ticker says, nothing else). */
    static final java.util.concurrent.atomic.AtomicLong NANOS = new java.util.concurrent.atomic.AtomicLong();
    static final Ticker TICK = NANOS::get;

    static RateLimiter.Decision at(RateLimiter r, String key, Instant t) {
        if (t == null) throw new IllegalArgumentException("now is required");
        NANOS.set(t.getEpochSecond() * 1_000_000_000L + t.getNano());
        return r.tryAcquire(key);
    }

    @Test
    void allowsABurstOfPermitsThenDenies() {
        RateLimiter r = new RateLimiter(5, Duration.ofMinutes(1), 100, TICK);
        for (int i = 0; i < 5; i++) assertTrue(at(r, "ip", T0).allowed(), "attempt " + i);
        RateLimiter.Decision d = at(r, "ip", T0);
        assertFalse(d.allowed());
        assertEquals(12, d.retryAfterSeconds()); // one permit every 60/5 = 12 s
    }

    @Test
    void allowedDecisionHasNoWait() {
        RateLimiter.Decision d = at(new RateLimiter(1, Duration.ofSeconds(10), 10, TICK), "k", T0);
        assertTrue(d.allowed());
        assertEquals(0, d.retryAfterSeconds());
    }

    @Test
    void retryAfterIsHonest() {
        RateLimiter r = new RateLimiter(3, Duration.ofSeconds(30), 10, TICK);
        for (int i = 0; i < 3; i++) at(r, "k", T0);
        long wait = at(r, "k", T0).retryAfterSeconds();
        assertEquals(10, wait);
        assertFalse(at(r, "k", T0.plusSeconds(wait).minusMillis(1)).allowed());
        assertTrue(at(r, "k", T0.plusSeconds(wait)).allowed());
    }

    @Test
    void retryAfterIsAtLeastOneSecond() {
        RateLimiter r = new RateLimiter(10, Duration.ofSeconds(1), 10, TICK);
        for (int i = 0; i < 10; i++) assertTrue(at(r, "k", T0).allowed());
        RateLimiter.Decision d = at(r, "k", T0);
        assertFalse(d.allowed());
        assertEquals(1, d.retryAfterSeconds());
        d = at(r, "k", T0.plusMillis(99));
        assertFalse(d.allowed());
        assertEquals(1, d.retryAfterSeconds());
    }

    @Test
    void keysAreIndependent() {
        RateLimiter r = new RateLimiter(2, Duration.ofMinutes(1), 100, TICK);
        assertTrue(at(r, "alice", T0).allowed());
        assertTrue(at(r, "alice", T0).allowed());
        assertFalse(at(r, "alice", T0).allowed());
        assertTrue(at(r, "bob", T0).allowed());
    }

    @Test
    void deniedAttemptsDoNotExtendTheLockout() {
        // an attacker hammering a user name must not keep the real user out
        RateLimiter r = new RateLimiter(5, Duration.ofMinutes(15), 100, TICK);
        for (int i = 0; i < 5; i++) at(r, "alice", T0);
        for (int i = 0; i < 10_000; i++) assertFalse(at(r, "alice", T0.plusSeconds(i % 100)).allowed());
        assertTrue(at(r, "alice", T0.plus(Duration.ofMinutes(15))).allowed());
    }

    @Test
    void windowsExpireAndTheFullBurstReturns() {
        RateLimiter r = new RateLimiter(4, Duration.ofMinutes(1), 100, TICK);
        for (int i = 0; i < 4; i++) assertTrue(at(r, "k", T0).allowed());
        assertFalse(at(r, "k", T0).allowed());
        Instant later = T0.plus(Duration.ofMinutes(1));
        for (int i = 0; i < 4; i++) assertTrue(at(r, "k", later).allowed());
        assertFalse(at(r, "k", later).allowed());
    }

    @Test
    void steadyRateIsPermitsPerWindow() {
        RateLimiter r = new RateLimiter(6, Duration.ofMinutes(1), 100, TICK);
        int allowed = 0;
        // one attempt per second for ten minutes: the burst of 6 plus one every 10 s
        for (int s = 0; s < 600; s++) if (at(r, "k", T0.plusSeconds(s)).allowed()) allowed++;
        assertTrue(allowed >= 60 && allowed <= 66, "allowed " + allowed);
    }

    @Test
    void clockGoingBackwardsDoesNotGrantMore() {
        RateLimiter r = new RateLimiter(2, Duration.ofMinutes(1), 100, TICK);
        assertTrue(at(r, "k", T0).allowed());
        assertTrue(at(r, "k", T0).allowed());
        assertFalse(at(r, "k", T0.minusSeconds(3600)).allowed());
    }

    @Test
    void resetForgetsAKey() {
        RateLimiter r = new RateLimiter(1, Duration.ofMinutes(1), 100, TICK);
        assertTrue(at(r, "alice", T0).allowed());
        assertFalse(at(r, "alice", T0).allowed());
        r.reset("alice");
        assertTrue(at(r, "alice", T0).allowed());
    }

    @Test
    void memoryIsBounded() {
        RateLimiter r = new RateLimiter(1, Duration.ofHours(1), 1000, TICK);
        for (int i = 0; i < 100_000; i++) at(r, "ip" + i, T0);
        assertTrue(r.size() <= 1000);
    }

    @Test
    void leastRecentlyUsedKeyIsEvicted() {
        RateLimiter r = new RateLimiter(1, Duration.ofHours(1), 2, TICK);
        assertTrue(at(r, "a", T0).allowed());
        assertTrue(at(r, "b", T0).allowed());
        assertFalse(at(r, "a", T0).allowed()); // touches a, so b is now the oldest
        assertTrue(at(r, "c", T0).allowed()); // evicts b
        assertEquals(2, r.size());
        assertFalse(at(r, "a", T0).allowed());
        assertTrue(at(r, "b", T0).allowed()); // b was forgotten
    }

    @Test
    void idleKeysAreDropped() {
        RateLimiter r = new RateLimiter(2, Duration.ofMinutes(1), 100, TICK);
        for (int i = 0; i < 50; i++) at(r, "k" + i, T0);
        assertEquals(50, r.size());
        at(r, "fresh", T0.plus(Duration.ofMinutes(2)));
        assertEquals(1, r.size());
    }

    @Test
    void nullKeyIsAllowedAndShared() {
        RateLimiter r = new RateLimiter(1, Duration.ofMinutes(1), 10, TICK);
        assertTrue(at(r, null, T0).allowed());
        assertFalse(at(r, null, T0).allowed());
    }

    @Test
    void constructorChecks() {
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(0, Duration.ofMinutes(1), 10, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, Duration.ZERO, 10, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, Duration.ofSeconds(-1), 10, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, null, 10, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, Duration.ofMinutes(1), 0, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1000, Duration.ofNanos(1000), 10, TICK));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, Duration.ofMinutes(1), 10, null));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(5, Duration.ofMinutes(1), 6, 10, TICK));
    }

    @Test
    void threadSafeUnderContention() throws Exception {
        RateLimiter r = new RateLimiter(100, Duration.ofHours(1), 10, TICK);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            results.add(pool.submit(() -> {
                start.await();
                int ok = 0;
                for (int i = 0; i < 1000; i++) if (at(r, "shared", T0).allowed()) ok++;
                return ok;
            }));
        }
        start.countDown();
        int total = 0;
        for (Future<Integer> f : results) total += f.get(30, TimeUnit.SECONDS);
        pool.shutdown();
        assertEquals(100, total);
    }

    @Test
    void aSmallBurstSpreadsTheSameBudget() {
        RateLimiter r = new RateLimiter(30, Duration.ofMinutes(15), 3, 100, TICK);
        for (int i = 0; i < 3; i++) assertTrue(at(r, "k", T0).allowed(), "attempt " + i);
        RateLimiter.Decision d = at(r, "k", T0);
        assertFalse(d.allowed());
        assertEquals(30, d.retryAfterSeconds(), "one permit every 30 s");
        assertTrue(at(r, "k", T0.plusSeconds(30)).allowed());
        int allowed = 0;
        for (int s = 31; s < 15 * 60 + 31; s++) if (at(r, "k", T0.plusSeconds(s)).allowed()) allowed++;
        assertTrue(allowed >= 29 && allowed <= 31, "still 30 per 15 minutes: " + allowed);
    }

    @Test
    void checkTakesNothing() {
        RateLimiter r = new RateLimiter(1, Duration.ofMinutes(1), 10, TICK);
        NANOS.set(0);
        for (int i = 0; i < 5; i++) assertTrue(r.check("k").allowed());
        assertTrue(r.tryAcquire("k").allowed());
        assertFalse(r.check("k").allowed());
    }

    @Test
    void waitsAreMeasuredOnTheTickerNotTheWallClock() {
        AtomicLongTicker t = new AtomicLongTicker();
        RateLimiter r = new RateLimiter(2, Duration.ofMinutes(1), 10, t);
        assertTrue(r.tryAcquire("k").allowed());
        assertTrue(r.tryAcquire("k").allowed());
        assertEquals(30, r.tryAcquire("k").retryAfterSeconds());
        t.n += Duration.ofSeconds(30).toNanos();
        assertTrue(r.tryAcquire("k").allowed());
    }

    static final class AtomicLongTicker implements Ticker {
        volatile long n = Long.MAX_VALUE - Duration.ofSeconds(10).toNanos(); // wraps around during the test: still right

        @Override
        public long nanos() {
            return n;
        }
    }
}
