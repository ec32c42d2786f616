package io.mcpoauth.store.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Group commit for one kind of single-row write: the writes that arrive while one transaction commits go together
 * into the next (one round trip for the batch, one commit), the way the file backend's journal batches its frames.
 * The batches are run by the writers' own threads ({@link Batcher}), one at a time. A caller waits for its own
 * result, for at most {@link #WAIT_MS}: then it gets {@link io.mcpoauth.store.StoreException#unavailable} (a write
 * already being committed may still commit: the outcome is unknown, as for any write whose answer was lost). A failed
 * batch fails every write in it the same way. Writers touch their rows in the order {@link Batch#write} chooses (it
 * sorts by key), so two instances' batches never deadlock on each other.
 */
final class GroupCommit<T> implements AutoCloseable {
    /** Writes {@code items} on {@code c} (inside a transaction); returns each one's result. */
    interface Batch<T> {
        boolean[] write(Connection c, List<T> items) throws SQLException;
    }

    /** The longest a caller waits: a pooled connection, a statement and its commit, with room to spare. */
    static final long WAIT_MS = 12_000;
    static final int MAX_BATCH = Batcher.MAX_BATCH;

    private final Batcher<T, Boolean> batcher;

    GroupCommit(Database db, String what, Batch<T> batch) {
        this.batcher = new Batcher<>(what, "confirm it", 1, WAIT_MS, items -> {
            // one write alone needs no transaction around it: its statement commits by itself (one round trip less)
            boolean[] results = items.size() == 1 ? db.auto(what, c -> batch.write(c, items)) : db.tx(what, c -> batch.write(c, items));
            List<Boolean> out = new ArrayList<>(results.length);
            for (boolean r : results) out.add(r);
            return out;
        });
    }

    /** Writes {@code item} with whatever else is waiting; its own result once committed. */
    boolean write(T item) {
        return batcher.submit(item);
    }

    /** Lets the writes already queued commit (bounded); refuses new ones. */
    @Override
    public void close() {
        batcher.close();
    }
}
