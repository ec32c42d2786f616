package io.mcpoauth.store.postgres;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Records of one table that every request reads and few change (clients, users), kept in memory and dropped when the
 * database says that a row changed ({@link Changes}: a trigger's NOTIFY, from any instance). It serves only while the
 * notification connection is up; when it drops, everything is forgotten and reads go to the database until it is back.
 * Only records that exist are kept (a key another instance creates is read from the database on first use), at most
 * {@code max} of them (the rest are read every time).
 *
 * <p>A read that raced a change cannot leave the old record behind: {@link #forget} counts before it removes, and a
 * loaded record that was put while the count moved is taken out again, so either the reader sees the count change or
 * the change's removal sees the record.
 */
final class RecordCache<V> {
    private final ConcurrentHashMap<String, V> records = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();
    private final int max;
    private final BooleanSupplier live;

    /** @param live whether changes are being heard (records are kept only then) */
    RecordCache(int max, BooleanSupplier live) {
        this.max = max;
        this.live = live;
    }

    /** The record of {@code key}: kept, or {@code load}ed (and kept when it exists and changes are being heard). */
    V get(String key, Function<String, V> load) {
        if (live.getAsBoolean()) {
            V kept = records.get(key);
            if (kept != null) return kept;
        }
        long before = changes.get();
        V v = load.apply(key);
        if (v == null || !live.getAsBoolean() || records.size() >= max) return v;
        records.put(key, v);
        if (changes.get() != before || !live.getAsBoolean()) records.remove(key, v);
        return v;
    }

    /** The row of {@code key} changed (or may have). */
    void forget(String key) {
        changes.incrementAndGet();
        records.remove(key);
    }

    /** Any row may have changed (a bulk change, or changes that were not heard). */
    void forgetAll() {
        changes.incrementAndGet();
        records.clear();
    }

    int size() {
        return records.size();
    }
}
