package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What the cache of clients and users keeps, and what it must not keep. */
class RecordCacheTest {
    private final AtomicBoolean live = new AtomicBoolean(true);
    private final AtomicInteger loads = new AtomicInteger();
    private final RecordCache<String> cache = new RecordCache<>(2, live::get);

    private String load(String key) {
        loads.incrementAndGet();
        return key.startsWith("none") ? null : "record of " + key;
    }

    @Test
    void aRecordReadOnceIsServedUntilItsRowChanges() {
        assertEquals("record of a", cache.get("a", this::load));
        assertEquals("record of a", cache.get("a", this::load));
        assertEquals(1, loads.get());
        cache.forget("a");
        assertEquals("record of a", cache.get("a", this::load));
        assertEquals(2, loads.get(), "read again after its change");
    }

    @Test
    void aChangeHeardWhileTheRecordWasBeingReadDropsWhatWasRead() {
        // the row changes (and the change is heard) after the database answered with the old record
        assertEquals("old", cache.get("a", k -> {
            cache.forget("a");
            return "old";
        }));
        assertEquals(0, cache.size(), "the old record is not kept");
        assertEquals("record of a", cache.get("a", this::load));
        cache.get("b", k -> {
            cache.forgetAll();
            return "old";
        });
        assertEquals(0, cache.size(), "a change to any row drops a too, and the old b is not kept");
    }

    @Test
    void absentKeysAreNotKeptAndNeitherIsAnythingWhileChangesAreNotHeard() {
        assertNull(cache.get("none-1", this::load));
        assertNull(cache.get("none-1", this::load));
        assertEquals(2, loads.get(), "a key another instance may create is read each time");
        cache.get("a", this::load);
        live.set(false);
        cache.get("a", this::load);
        assertEquals(4, loads.get(), "a kept record is not served while changes go unheard");
        cache.get("b", this::load);
        live.set(true);
        assertEquals(1, cache.size(), "b was not kept");
    }

    @Test
    void itKeepsAtMostItsBoundAndReadsTheRestEachTime() {
        cache.get("a", this::load);
        cache.get("b", this::load);
        cache.get("c", this::load);
        cache.get("c", this::load);
        assertEquals(2, cache.size());
        assertEquals(4, loads.get());
    }
}
