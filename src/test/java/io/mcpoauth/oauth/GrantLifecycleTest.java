package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mcpoauth.core.Events;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.memory.MemoryStores;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sweeps of the grant lifecycle under wall-clock steps: grants are not deleted because the clock jumped. */
class GrantLifecycleTest {
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    static RefreshFamily family(String id, Instant expires) {
        return new RefreshFamily(id, "c", "u", "mcp", "https://mcp.example/mcp", "h-" + id, null, List.of(), T0, T0, expires, 0);
    }

    @Test
    void aWallClockJumpAheadDoesNotSweepGrantsThatHaveNotReallyExpired() {
        Stores stores = new MemoryStores();
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        GrantLifecycle lifecycle = new GrantLifecycle(stores, new AccessTokens(stores.accessTokens()), Events.NONE, nanos::get);
        stores.grants().create(family("soon", T0.plus(Duration.ofMinutes(30))));
        stores.grants().create(family("later", T0.plus(Duration.ofDays(1))));
        assertEquals(0, lifecycle.sweepGrants(T0));

        // five minutes pass, but the wall clock says two hours: nothing that expires within the real five minutes goes
        nanos.addAndGet(Duration.ofMinutes(5).toNanos());
        assertEquals(0, lifecycle.sweepGrants(T0.plus(Duration.ofHours(2))));
        assertNotNull(stores.grants().get("soon"), "the jump did not delete a live grant");

        // once the time has really passed, the grant expires as usual
        nanos.addAndGet(Duration.ofMinutes(30).toNanos());
        assertEquals(1, lifecycle.sweepGrants(T0.plus(Duration.ofHours(3))));
        assertNull(stores.grants().get("soon"));
        assertNotNull(stores.grants().get("later"));
    }

    @Test
    void oneSweepRemovesABoundedShareAndTheNextOneTheRest() {
        Stores stores = new MemoryStores();
        GrantLifecycle lifecycle = new GrantLifecycle(stores, new AccessTokens(stores.accessTokens()), Events.NONE);
        int n = GrantLifecycle.SWEEP_FLOOR + 500;
        for (int i = 0; i < n; i++) stores.grants().create(family("f" + i, T0));
        List<Integer> swept = new ArrayList<>();
        swept.add(lifecycle.sweepGrants(T0.plusSeconds(1)));
        swept.add(lifecycle.sweepGrants(T0.plusSeconds(2)));
        assertEquals(List.of(GrantLifecycle.SWEEP_FLOOR, 500), swept);
        assertEquals(0, stores.grants().count());
    }
}
