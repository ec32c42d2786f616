package io.mcpoauth.store.memory;

import java.util.Collection;
import java.util.function.Function;

/**
 * Records of one kind by key, with atomic transactions: what the map-based stores of this package are written
 * against. {@link MemoryMap} keeps them in memory; the file backend's maps make every transaction durable before
 * {@link #update} returns.
 */
public interface RecordMap<V> {
    V get(String key);

    /** The committed records, in no particular order (a weakly consistent view). */
    Collection<V> values();

    int size();

    /** Runs {@code fn} atomically; its changes are applied (and, for a durable map, on disk) when this returns. */
    <R> R update(Function<Tx<V>, R> fn);

    /** A transaction: reads see its own writes; nothing is applied if the function throws. */
    interface Tx<V> {
        V get(String key);

        void put(String key, V value);

        void remove(String key);
    }
}
