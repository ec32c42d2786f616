package io.mcpoauth.core;

import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A bounded in-memory map whose entries expire: authorization codes, access tokens, pending authorizations,
 * upstream {@code state}. When full, expired entries are swept first; if it is still full, {@link #put} refuses
 * (the caller answers 503) rather than growing without bound.
 */
public final class ExpiringMap<V> {
    private record Entry<V>(V value, long expiresAtMillis) {}

    private final ConcurrentHashMap<String, Entry<V>> entries = new ConcurrentHashMap<>();
    private final int maxEntries;

    public ExpiringMap(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /** Stores the entry; false when the map is full of live entries. */
    public boolean put(String key, V value, Instant expiresAt, Instant now) {
        if (entries.size() >= maxEntries) {
            sweep(now);
            if (entries.size() >= maxEntries) return false;
        }
        entries.put(key, new Entry<>(value, expiresAt.toEpochMilli()));
        return true;
    }

    /** The live value, or null when absent or expired. */
    public V get(String key, Instant now) {
        Entry<V> e = key == null ? null : entries.get(key);
        if (e == null) return null;
        if (e.expiresAtMillis <= now.toEpochMilli()) {
            entries.remove(key, e);
            return null;
        }
        return e.value;
    }

    /** Removes and returns the live value: exactly one caller wins a race for the same key. */
    public V take(String key, Instant now) {
        Entry<V> e = key == null ? null : entries.remove(key);
        if (e == null || e.expiresAtMillis <= now.toEpochMilli()) return null;
        return e.value;
    }

    /** Replaces the live value {@code expected} (by equality) with {@code next}; false when it is absent, expired or different. */
    public boolean replace(String key, V expected, V next, Instant expiresAt, Instant now) {
        long t = now.toEpochMilli();
        boolean[] done = {false};
        entries.computeIfPresent(key, (k, e) -> {
            if (e.expiresAtMillis <= t || !e.value.equals(expected)) return e;
            done[0] = true;
            return new Entry<>(next, expiresAt.toEpochMilli());
        });
        return done[0];
    }

    public V remove(String key) {
        Entry<V> e = entries.remove(key);
        return e == null ? null : e.value;
    }

    /** Removes every live entry whose value matches; returns how many. */
    public int removeIf(Predicate<V> which) {
        int[] n = {0};
        entries.forEach((k, e) -> {
            if (which.test(e.value) && entries.remove(k, e)) n[0]++;
        });
        return n[0];
    }

    public int sweep(Instant now) {
        long t = now.toEpochMilli();
        int[] n = {0};
        entries.forEach((k, e) -> {
            if (e.expiresAtMillis <= t && entries.remove(k, e)) n[0]++;
        });
        return n[0];
    }

    public int size() {
        return entries.size();
    }
}
