package io.mcpoauth.store.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Lookups by key from concurrent requests, answered together: the keys asked for while one query runs go into the
 * next ({@code WHERE key = ANY(?)}), one round trip for all of them, run by the callers' own threads
 * ({@link Batcher}). A read is as fresh as with a query of its own: the query starts after the caller asked, so a
 * caller sees every write that committed before it asked. The caller waits at most {@link GroupCommit#WAIT_MS}.
 */
final class GroupRead<V> implements AutoCloseable {
    /** Reads the records of {@code keys} on {@code c}; absent keys are simply missing from the map. */
    interface Lookup<V> {
        Map<String, V> read(Connection c, List<String> keys) throws SQLException;
    }

    /**
     * Queries of one kind at once: one, so that the lookups arriving while it runs all go into the next (with two at once
     * the batches were smaller and a refresh that reads its grant was 5 to 14% slower under load, one or two instances).
     */
    static final int THREADS = 1;

    private final Batcher<String, V> batcher;

    GroupRead(Database db, String what, int threads, Lookup<V> lookup) {
        this.batcher = new Batcher<>(what, "answer", threads, GroupCommit.WAIT_MS, keys -> {
            Map<String, V> found = db.auto(what, c -> lookup.read(c, new ArrayList<>(new LinkedHashSet<>(keys))));
            List<V> out = new ArrayList<>(keys.size());
            for (String k : keys) out.add(found.get(k));
            return out;
        });
    }

    V get(String key) {
        return batcher.submit(key);
    }

    /** Many records by key in one query: {@code sql} has one parameter, the text[] of keys. */
    static <V> Map<String, V> byKeys(Connection c, List<String> keys, String sql, Sql.Row<V> row, java.util.function.Function<V, String> key)
            throws SQLException {
        Map<String, V> out = new HashMap<>();
        for (V v : Sql.list(c, sql, row, keys)) out.put(key.apply(v), v);
        return out;
    }

    @Override
    public void close() {
        batcher.close();
    }
}
