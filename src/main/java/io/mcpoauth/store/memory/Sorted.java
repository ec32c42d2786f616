package io.mcpoauth.store.memory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/** Listing helpers for the map-based stores: copies, sorted by key, optionally filtered. */
final class Sorted {
    private Sorted() {}

    static <V> List<V> byKey(Collection<V> values, Function<V, String> key) {
        return filtered(values, v -> true, key);
    }

    static <V> List<V> filtered(Collection<V> values, Predicate<V> which, Function<V, String> key) {
        List<V> out = new ArrayList<>();
        for (V v : values) {
            if (which.test(v)) out.add(v);
        }
        out.sort(Comparator.comparing(key));
        return out;
    }
}
