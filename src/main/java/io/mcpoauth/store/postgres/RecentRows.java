package io.mcpoauth.store.postgres;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Rows this instance wrote last, by key, at most {@code max} of them: newer ones in one generation, older ones in
 * another; when the newer is half full it becomes the older and the older one is dropped, so a key used again recently
 * stays and the map never holds more than {@code max}. Nothing here is trusted to be current (another instance may have
 * changed the row since): a row taken from here is only ever the expected state of a conditional write, which the
 * database checks.
 */
final class RecentRows<V> {
    private final int half;
    private volatile ConcurrentHashMap<String, V> newer = new ConcurrentHashMap<>();
    private volatile ConcurrentHashMap<String, V> older = new ConcurrentHashMap<>();

    RecentRows(int max) {
        if (max < 2) throw new IllegalArgumentException("max must be at least 2");
        this.half = max / 2;
    }

    V get(String key) {
        V v = newer.get(key);
        if (v != null) return v;
        v = older.get(key);
        if (v != null) put(key, v);
        return v;
    }

    void put(String key, V value) {
        ConcurrentHashMap<String, V> n = newer;
        n.put(key, value);
        if (n.size() >= half) {
            synchronized (this) {
                if (newer == n) {
                    older = n;
                    newer = new ConcurrentHashMap<>();
                }
            }
        }
    }

    void forget(String key) {
        newer.remove(key);
        older.remove(key);
    }

    int size() {
        return newer.size() + older.size();
    }
}
