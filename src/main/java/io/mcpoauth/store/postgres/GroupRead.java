package io.mcpoauth.store.postgres;

import io.mcpoauth.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Lookups by key from concurrent requests, answered together: the keys asked for while one query runs go into the
 * next ({@code WHERE key = ANY(?)}), one round trip for all of them. A read is as fresh as with a query of its own: the
 * query starts after the caller asked, so a caller sees every write that committed before it asked. The caller waits
 * at most {@link GroupCommit#WAIT_MS}.
 */
final class GroupRead<V> implements AutoCloseable {
    /** Reads the records of {@code keys} on {@code c}; absent keys are simply missing from the map. */
    interface Lookup<V> {
        Map<String, V> read(Connection c, List<String> keys) throws SQLException;
    }

    /** Readers per kind: while one waits for its answer, the other can send the next batch. */
    static final int THREADS = 2;

    private record Pending<V>(String key, CompletableFuture<V> done) {}

    private final Database db;
    private final String what;
    private final Lookup<V> lookup;
    private final LinkedBlockingQueue<Pending<V>> queue = new LinkedBlockingQueue<>(10_000);
    private final List<Thread> readers = new ArrayList<>();
    private volatile boolean closed;

    GroupRead(Database db, String what, int threads, Lookup<V> lookup) {
        this.db = db;
        this.what = what;
        this.lookup = lookup;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::run, "group-read: " + what);
            t.setDaemon(true);
            t.start();
            readers.add(t);
        }
    }

    V get(String key) {
        if (closed) throw StoreException.unavailable("Cannot " + what + ": the store is closing", null);
        Pending<V> p = new Pending<>(key, new CompletableFuture<>());
        if (!queue.offer(p)) throw StoreException.unavailable("Cannot " + what + ": too many reads are waiting for the database", null);
        try {
            return p.done().get(GroupCommit.WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw StoreException.unavailable("Cannot " + what + ": the database did not answer within " + GroupCommit.WAIT_MS + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StoreException.unavailable("Cannot " + what + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw StoreException.unavailable("Cannot " + what + ": " + e.getCause(), e.getCause());
        }
    }

    private void run() {
        List<Pending<V>> group = new ArrayList<>();
        while (!closed) {
            group.clear();
            try {
                Pending<V> first = queue.take();
                if (first.done() == null) break; // close(): this reader's stop
                group.add(first);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(group, GroupCommit.MAX_BATCH - 1);
            int stops = 0;
            for (Pending<V> p : group) {
                if (p.done() == null) stops++;
            }
            if (stops > 0) {
                group.removeIf(p -> p.done() == null);
                for (int i = 1; i < stops; i++) queue.offer(new Pending<>(null, null)); // the other readers' stops
            }
            LinkedHashSet<String> keys = new LinkedHashSet<>();
            for (Pending<V> p : group) keys.add(p.key());
            try {
                Map<String, V> found = db.auto(what, c -> lookup.read(c, new ArrayList<>(keys)));
                for (Pending<V> p : group) p.done().complete(found.get(p.key()));
            } catch (RuntimeException e) {
                for (Pending<V> p : group) p.done().completeExceptionally(e);
            }
            if (stops > 0) break;
        }
        StoreException gone = StoreException.unavailable("Cannot " + what + ": the store closed", null);
        int stops = 0;
        for (Pending<V> p; (p = queue.poll()) != null; ) {
            if (p.done() != null) p.done().completeExceptionally(gone);
            else stops++;
        }
        for (int i = 0; i < stops; i++) queue.offer(new Pending<>(null, null)); // the other readers' stops stay for them
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
        closed = true;
        for (int i = 0; i < readers.size(); i++) queue.offer(new Pending<>(null, null)); // one stop per reader
        for (Thread t : readers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
