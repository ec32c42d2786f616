package io.mcpoauth.store.file;

/** Small helpers for tests that drive a {@link DurableMap} directly. */
final class Maps {
    private Maps() {}

    /** One durable put; returns once it is on disk. */
    static <V> void put(DurableMap<V> m, String key, V value) {
        m.update(tx -> {
            tx.put(key, value);
            return null;
        });
    }
}
