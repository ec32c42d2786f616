package io.mcpoauth.core;

/**
 * A monotonic source of nanoseconds for measuring elapsed time (rate limits, throttles, deadlines): unlike the wall
 * clock it never steps backwards or forwards when the system time is corrected. Only differences between two
 * readings mean anything. Tests pass one they move by hand.
 */
@FunctionalInterface
public interface Ticker {
    /** {@link System#nanoTime()}. */
    Ticker SYSTEM = System::nanoTime;

    long nanos();
}
