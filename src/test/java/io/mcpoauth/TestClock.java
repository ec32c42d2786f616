package io.mcpoauth;

import io.mcpoauth.core.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock the test moves by hand (for expiry and rate-limit windows), so no test has to sleep. It is also the
 * server's monotonic {@link Ticker}: {@link #advance} moves both, {@link #stepWallClock} only the wall clock (an NTP
 * correction or an operator setting the date), which must not change any wait the server measures.
 */
public final class TestClock extends Clock implements Ticker {
    private final AtomicReference<Instant> now;
    private final AtomicLong nanos = new AtomicLong();

    public TestClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    public TestClock() {
        this(Instant.now());
    }

    public void advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
        nanos.addAndGet(d.toNanos());
    }

    /** Moves the wall clock only (forwards or backwards); elapsed time as the ticker measures it does not change. */
    public void stepWallClock(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public long nanos() {
        return nanos.get();
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
