package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.Stores;
import io.mcpoauth.store.Sweeper;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sweeper of several instances on one database: one round at a time (pg_try_advisory_lock), released whatever the round did. */
class SweepLockTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @Test
    void oneInstanceSweepsAtATimeAndTheLockIsReleasedAfterAFailedRound() {
        String url = PG.newSchema();
        try (Stores a = PgStores.open(url, null, 2, 100); Stores b = PgStores.open(url, null, 2, 100)) {
            AtomicBoolean otherRan = new AtomicBoolean();
            AtomicInteger aRounds = new AtomicInteger();
            assertTrue(a.exclusively("sweep", () -> {
                aRounds.incrementAndGet();
                assertFalse(b.exclusively("sweep", () -> otherRan.set(true)), "b skips while a sweeps");
                assertTrue(b.exclusively("something else", () -> {}), "another name is another lock");
            }));
            assertFalse(otherRan.get());
            assertEquals(1, aRounds.get());
            assertThrows(IllegalStateException.class, () -> a.exclusively("sweep", () -> {
                throw new IllegalStateException("a round that failed");
            }));
            assertTrue(b.exclusively("sweep", () -> otherRan.set(true)), "the failed round released the lock");
            assertTrue(otherRan.get());

            // the sweepers themselves: b's round is skipped (empty result) while a's runs
            AtomicInteger swept = new AtomicInteger();
            Sweeper sb = new Sweeper(List.of(Sweeper.Task.of("count", now -> swept.incrementAndGet())), Clock.systemUTC(), b);
            Sweeper sa = new Sweeper(List.of(Sweeper.Task.of("inner", now -> sb.runOnce().size())), Clock.systemUTC(), a);
            assertEquals(java.util.Map.of("inner", 0), sa.runOnce(), "b's sweeper ran no task while a's round held the lock");
            assertEquals(0, swept.get());
            assertEquals(java.util.Map.of("count", 1), sb.runOnce());
        }
    }
}
