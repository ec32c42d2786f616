package io.mcpoauth.store.file;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting for a condition in tests: polled every few milliseconds, failing after a bound (never a bare sleep). */
final class Await {
    private Await() {}

    static void until(Duration bound, BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + bound + ": " + what.get());
            LockSupport.parkNanos(5_000_000);
        }
    }
}
