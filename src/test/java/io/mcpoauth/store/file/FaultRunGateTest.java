package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gate of {@link FaultRunChild}: while paused, the parked writers stay asleep (nothing wakes them but resume), and
 * pause() returns as soon as the last writer is parked. A gate whose parked writers wake one another keeps the CPUs
 * busy the whole pause and can starve pause() itself on a loaded machine: the fault run then stalls with no output.
 */
class FaultRunGateTest {
    private static final int WRITERS = 6;

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a thread starved of a monitor ignores interrupts
    void parkedWritersSleepUntilResumedAndPauseReturnsOnceAllAreParked() throws Exception {
        FaultRunChild.Gate gate = new FaultRunChild.Gate(WRITERS);
        AtomicLong passes = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < WRITERS; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        gate.pass();
                        passes.incrementAndGet();
                        if (passes.get() % 7 == 0) gate.backOff();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "writer-" + i);
            t.setDaemon(true);
            writers.add(t);
            t.start();
        }
        ExecutorService pauser = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pauser");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int round = 0; round < 20; round++) {
                long before = passes.get();
                Await.until(Duration.ofSeconds(10), () -> passes.get() > before + 100, () -> "the writers run");
                within(pauser, () -> {
                    gate.pause();
                    return null;
                }, "pause() (round " + round + ")");
                assertEquals(WRITERS, within(pauser, gate::parked, "parked()"), "pause() returned with every writer parked");
                long passed = passes.get();
                long woken = within(pauser, gate::wakeUps, "wakeUps()");
                LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
                assertEquals(passed, passes.get(), "no writer passes while paused");
                long extra = within(pauser, gate::wakeUps, "wakeUps()") - woken;
                // spurious wake-ups are allowed by the JVM but rare; writers that wake one another do so thousands of times
                assertTrue(extra <= 3, "parked writers woke " + extra + " times in 200 ms while paused (round " + round + ")");
                within(pauser, () -> {
                    gate.resume();
                    return null;
                }, "resume()");
            }
        } finally {
            pauser.submit(gate::resume);
            pauser.shutdown();
            for (Thread t : writers) t.interrupt();
            for (Thread t : writers) t.join(10_000);
        }
    }

    /** Runs {@code call} on {@code thread}: each gate call must get the gate's lock within 10 s, even while paused. */
    private static <T> T within(ExecutorService thread, java.util.concurrent.Callable<T> call, String what) throws Exception {
        Future<T> f = thread.submit(call);
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(what + " did not return within 10 s (starved by the parked writers?)");
        }
    }
}
