package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bounded memory of rows written last: never more than its bound, and a row used again recently stays. */
class RecentRowsTest {
    @Test
    void neverHoldsMoreThanItsBound() {
        RecentRows<String> rows = new RecentRows<>(100);
        for (int i = 0; i < 10_000; i++) {
            rows.put("k" + i, "v" + i);
            assertTrue(rows.size() <= 100, "size " + rows.size() + " after " + i);
        }
        assertEquals("v9999", rows.get("k9999"));
        assertNull(rows.get("k0"), "the oldest are dropped");
    }

    @Test
    void aRowReadAgainSurvivesTheNextGenerations() {
        RecentRows<String> rows = new RecentRows<>(10);
        rows.put("kept", "v");
        for (int i = 0; i < 100; i++) {
            rows.put("k" + i, "v" + i);
            assertEquals("v", rows.get("kept"), "after " + i);
        }
    }

    @Test
    void aForgottenRowIsGone() {
        RecentRows<String> rows = new RecentRows<>(10);
        rows.put("a", "1");
        rows.forget("a");
        assertNull(rows.get("a"));
        assertEquals(0, rows.size());
    }
}
