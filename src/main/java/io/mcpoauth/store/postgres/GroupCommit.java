package io.mcpoauth.store.postgres;

import io.mcpoauth.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Group commit for one kind of single-row write: the writes that arrive while one transaction commits go together
 * into the next (one round trip for the batch, one commit), the way the file backend's journal batches its frames.
 * The caller waits for its own result, for at most {@link #WAIT_MS}: then it gets {@link StoreException#unavailable}
 * (the write may still commit: the outcome is unknown, as for any write whose answer was lost). A failed batch fails
 * every write in it the same way. Writers touch their rows in the order {@link Batch#write} chooses (it sorts by key),
 * so two instances' batches never deadlock on each other.
 */
final class GroupCommit<T> implements AutoCloseable {
    /** Writes {@code items} on {@code c} (inside a transaction); returns each one's result. */
    interface Batch<T> {
        boolean[] write(Connection c, List<T> items) throws SQLException;
    }

    /** The longest a caller waits: a pooled connection, a statement and its commit, with room to spare. */
    static final long WAIT_MS = 12_000;
    static final int MAX_BATCH = 128;
    private static final int QUEUE = 10_000;

    private record Pending<T>(T item, CompletableFuture<Boolean> done) {}

    private final Database db;
    private final String what;
    private final Batch<T> batch;
    private final LinkedBlockingQueue<Pending<T>> queue = new LinkedBlockingQueue<>(QUEUE);
    private final Thread writer;
    private volatile boolean closed;

    GroupCommit(Database db, String what, Batch<T> batch) {
        this.db = db;
        this.what = what;
        this.batch = batch;
        this.writer = new Thread(this::run, "group-commit: " + what);
        writer.setDaemon(true);
        writer.start();
    }

    /** Writes {@code item} with whatever else is waiting; its own result once committed. */
    boolean write(T item) {
        if (closed) throw StoreException.unavailable("Cannot " + what + ": the store is closing", null);
        Pending<T> p = new Pending<>(item, new CompletableFuture<>());
        if (!queue.offer(p)) throw StoreException.unavailable("Cannot " + what + ": too many writes are waiting for the database", null);
        try {
            return p.done().get(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw StoreException.unavailable("Cannot " + what + ": the database did not confirm it within " + WAIT_MS + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StoreException.unavailable("Cannot " + what + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw StoreException.unavailable("Cannot " + what + ": " + e.getCause(), e.getCause());
        }
    }

    private void run() {
        List<Pending<T>> group = new ArrayList<>();
        while (!closed) {
            group.clear();
            try {
                Pending<T> first = queue.take();
                if (first.done() == null) break; // close()
                group.add(first);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(group, MAX_BATCH - 1);
            boolean last = group.removeIf(p -> p.done() == null);
            List<T> items = new ArrayList<>(group.size());
            for (Pending<T> p : group) items.add(p.item());
            try {
                // one write alone needs no transaction around it: its statement commits by itself (one round trip less)
                boolean[] results = items.size() == 1 ? db.auto(what, c -> batch.write(c, items)) : db.tx(what, c -> batch.write(c, items));
                for (int i = 0; i < group.size(); i++) group.get(i).done().complete(results[i]);
            } catch (RuntimeException e) {
                for (Pending<T> p : group) p.done().completeExceptionally(e);
            }
            group.clear();
            if (last) break;
        }
        StoreException gone = StoreException.unavailable("Cannot " + what + ": the store closed", null);
        for (Pending<T> p; (p = queue.poll()) != null; ) {
            if (p.done() != null) p.done().completeExceptionally(gone);
        }
    }

    /** Lets the writes already queued commit (bounded), then stops. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!queue.isEmpty() && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        closed = true;
        queue.offer(new Pending<>(null, null)); // wakes the writer, which then stops
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
