package io.mcpoauth.store.memory;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/** A {@link RecordMap} in memory: reads never block; transactions run one at a time and apply all or nothing. */
public final class MemoryMap<V> implements RecordMap<V> {
    private final ConcurrentHashMap<String, V> data = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();

    @Override
    public V get(String key) {
        return key == null ? null : data.get(key);
    }

    @Override
    public Collection<V> values() {
        return data.values();
    }

    @Override
    public int size() {
        return data.size();
    }

    @Override
    public <R> R update(Function<Tx<V>, R> fn) {
        lock.lock();
        try {
            Map<String, V> changes = new HashMap<>();
            R result = fn.apply(new Tx<>() {
                @Override
                public V get(String key) {
                    return changes.containsKey(key) ? changes.get(key) : data.get(key);
                }

                @Override
                public void put(String key, V value) {
                    if (key == null || value == null) throw new IllegalArgumentException("null key or value");
                    changes.put(key, value);
                }

                @Override
                public void remove(String key) {
                    changes.put(key, null);
                }
            });
            changes.forEach((k, v) -> {
                if (v == null) data.remove(k);
                else data.put(k, v);
            });
            return result;
        } finally {
            lock.unlock();
        }
    }
}
