package io.mcpoauth.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.oauth.AccessTokens;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.memory.MemoryAccessTokenStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bounded in-memory stores (codes, access tokens, pending authorizations), with explicit time. */
class ExpiringMapTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @Test
    void putRefusesWhenFullOfLiveEntriesAndSucceedsOnceTheyExpire() {
        ExpiringMap<String> m = new ExpiringMap<>(3);
        for (int i = 0; i < 3; i++) assertTrue(m.put("k" + i, "v" + i, T0.plusSeconds(60), T0));
        assertFalse(m.put("k3", "v3", T0.plusSeconds(60), T0.plusSeconds(59)), "full of live entries");
        assertEquals(3, m.size());
        assertNull(m.get("k3", T0));
        assertTrue(m.put("k3", "v3", T0.plusSeconds(120), T0.plusSeconds(60)), "the expired entries make room");
        assertEquals(1, m.size(), "put swept the expired entries");
        assertEquals("v3", m.get("k3", T0.plusSeconds(61)));
    }

    @Test
    void partlyExpiredMapMakesRoomOnlyForWhatExpired() {
        ExpiringMap<String> m = new ExpiringMap<>(2);
        assertTrue(m.put("short", "s", T0.plusSeconds(10), T0));
        assertTrue(m.put("long", "l", T0.plusSeconds(100), T0));
        assertTrue(m.put("new", "n", T0.plusSeconds(100), T0.plusSeconds(10)));
        assertFalse(m.put("another", "a", T0.plusSeconds(100), T0.plusSeconds(10)));
        assertEquals("l", m.get("long", T0.plusSeconds(10)));
    }

    @Test
    void expiryIsHonouredWithAnExplicitNow() {
        ExpiringMap<String> m = new ExpiringMap<>(10);
        m.put("code", "v", T0.plusSeconds(600), T0);
        assertEquals("v", m.get("code", T0.plusSeconds(599)));
        assertEquals("v", m.get("code", T0.plusMillis(599_999)));
        assertNull(m.get("code", T0.plusSeconds(600)), "expired at exactly expiresAt");
        assertEquals(0, m.size(), "an expired entry is dropped when read");

        m.put("code2", "v", T0.plusSeconds(600), T0);
        assertNull(m.take("code2", T0.plusSeconds(601)), "an expired entry cannot be taken");
        assertEquals(0, m.size());
        assertNull(m.get(null, T0));
        assertNull(m.take(null, T0));
    }

    @Test
    void sweepRemovesOnlyExpiredEntries() {
        ExpiringMap<String> m = new ExpiringMap<>(10);
        for (int i = 1; i <= 5; i++) m.put("k" + i, "v", T0.plusSeconds(i * 10L), T0);
        assertEquals(2, m.sweep(T0.plusSeconds(20)));
        assertEquals(3, m.size());
        assertNull(m.get("k2", T0));
        assertNotNull(m.get("k3", T0));
    }

    @Test
    void removeIfRemovesMatchingEntries() {
        ExpiringMap<String> m = new ExpiringMap<>(10);
        m.put("a", "grant-1", T0.plusSeconds(60), T0);
        m.put("b", "grant-1", T0.plusSeconds(60), T0);
        m.put("c", "grant-2", T0.plusSeconds(60), T0);
        assertEquals(2, m.removeIf("grant-1"::equals));
        assertEquals("grant-2", m.remove("c"));
        assertNull(m.remove("c"));
    }

    @Test
    void takeHasASingleWinnerUnderConcurrency() throws Exception {
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 200; round++) {
                ExpiringMap<String> m = new ExpiringMap<>(10);
                m.put("code", "grant-" + round, T0.plusSeconds(600), T0);
                CyclicBarrier go = new CyclicBarrier(threads);
                List<Future<String>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    fs.add(pool.submit(() -> {
                        go.await(10, TimeUnit.SECONDS);
                        return m.take("code", T0.plusSeconds(1));
                    }));
                }
                int winners = 0;
                for (Future<String> f : fs) {
                    String v = f.get(10, TimeUnit.SECONDS);
                    if (v != null) {
                        assertEquals("grant-" + round, v);
                        winners++;
                    }
                }
                assertEquals(1, winners, "an authorization code is redeemed exactly once");
                assertEquals(0, m.size());
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void accessTokensAreStoredByHashAndRefusedWhenFull() {
        AccessTokens at = new AccessTokens(new MemoryAccessTokenStore(2, 5));
        AccessToken rec = new AccessToken("c", "u", Set.of("mcp"), "https://mcp.example/mcp", "grant-1", T0.plus(Duration.ofHours(1)));
        String a = at.issue(rec, T0);
        String b = at.issue(rec, T0);
        assertNotNull(a);
        assertNotNull(b);
        assertNull(at.issue(rec, T0), "full of live tokens: the caller answers 503");
        assertEquals(rec, at.find(a, T0));
        assertNull(at.find(a, T0.plus(Duration.ofHours(1))), "expired");
        assertNull(at.find("mcpat_forged", T0));
        assertEquals(1, at.revokeGrant("grant-1"), "b (a was dropped when found expired)");
        assertNotNull(at.issue(rec, T0));
    }

    // ---- O(1) inserts when full, the oldest evictable entry first ----

    @Test
    void whenFullTheOldestEvictableEntryMakesRoomAndKeptOnesStay() {
        ExpiringMap<String> m = new ExpiringMap<>(4);
        Instant later = T0.plus(Duration.ofHours(1));
        assertTrue(m.put("kept1", "k", later, T0));
        assertTrue(m.put("anon1", "a", later, T0, ExpiringMap.Policy.EVICTABLE));
        assertTrue(m.put("anon2", "a", later, T0, ExpiringMap.Policy.EVICTABLE));
        assertTrue(m.put("kept2", "k", later, T0));
        assertTrue(m.put("anon3", "a", later, T0, ExpiringMap.Policy.EVICTABLE));
        assertNull(m.get("anon1", T0), "the oldest evictable entry goes first");
        assertNotNull(m.get("anon2", T0));
        assertNotNull(m.get("kept1", T0));
        assertTrue(m.put("kept3", "k", later, T0));
        assertTrue(m.put("kept4", "k", later, T0));
        assertEquals(4, m.size());
        assertFalse(m.put("kept5", "k", later, T0), "full of entries that may not be evicted: refused");
        assertFalse(m.put("anon4", "a", later, T0, ExpiringMap.Policy.EVICTABLE));
        assertEquals(3, m.evictions());
    }

    @Test
    void expiredEntriesGoBeforeAnyLiveOne() {
        ExpiringMap<String> m = new ExpiringMap<>(2);
        assertTrue(m.put("short", "s", T0.plusSeconds(1), T0));
        assertTrue(m.put("anon", "a", T0.plusSeconds(100), T0, ExpiringMap.Policy.EVICTABLE));
        assertTrue(m.put("new", "n", T0.plusSeconds(100), T0.plusSeconds(2)));
        assertNotNull(m.get("anon", T0.plusSeconds(2)));
        assertEquals(0, m.evictions());
    }

    @Test
    void anOwnerAtItsCapLosesItsOwnOldestEntry() {
        ExpiringMap<String> m = new ExpiringMap<>(100);
        ExpiringMap.Policy p = ExpiringMap.Policy.evictable(new ExpiringMap.Owner("addr", 3));
        Instant later = T0.plusSeconds(60);
        for (int i = 0; i < 5; i++) assertTrue(m.put("e" + i, "v", later, T0, p));
        assertEquals(3, m.owned("addr"));
        assertNull(m.get("e0", T0));
        assertNull(m.get("e1", T0));
        assertNotNull(m.get("e4", T0));
        m.remove("e4");
        m.take("e3", T0);
        assertEquals(1, m.owned("addr"));
        assertTrue(m.put("other", "v", later, T0, ExpiringMap.Policy.evictable(new ExpiringMap.Owner("addr2", 3))));
        assertEquals(1, m.owned("addr2"));
    }

    @Test
    void insertingIntoAFullMapIsConstantTime() {
        int max = 100_000;
        ExpiringMap<String> m = new ExpiringMap<>(max);
        Instant later = T0.plus(Duration.ofHours(1));
        for (int i = 0; i < max; i++) m.put("k" + i, "v", later, T0, ExpiringMap.Policy.EVICTABLE);
        long start = System.nanoTime();
        for (int i = 0; i < 200_000; i++) assertTrue(m.put("n" + i, "v", later, T0, ExpiringMap.Policy.EVICTABLE));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(max, m.size());
        // a scan per insert (the old map) would be 200,000 x 100,000 entries: many minutes
        assertTrue(millis < 5_000, "200,000 inserts into a full map took " + millis + " ms");
        // removals leave no unbounded garbage behind: churn through a map that never fills
        ExpiringMap<String> small = new ExpiringMap<>(1000);
        for (int i = 0; i < 500_000; i++) {
            small.put("c" + i, "v", later, T0);
            small.take("c" + i, T0);
        }
        assertEquals(0, small.size());
    }
}
