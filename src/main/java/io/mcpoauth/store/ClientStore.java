package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/** Registered OAuth clients. Every change is durable before the method returns (or it throws {@link StoreException}). */
public interface ClientStore {
    ClientRecord get(String clientId);

    /** Every client, sorted by id. */
    List<ClientRecord> list();

    int count();

    /** What {@link #add} did. */
    record Added(boolean stored, String evicted) {
        public static final Added FULL = new Added(false, null);
    }

    /**
     * Stores a new client. When {@code max} clients are stored already, the oldest client that never completed a
     * grant is removed to make room (its id is returned); when every stored client has been used, nothing is stored.
     */
    Added add(ClientRecord client, int max);

    /** Adds or replaces a client, whatever the number stored (imports, tests). */
    default void put(ClientRecord client) {
        add(client, Integer.MAX_VALUE);
    }

    /** Replaces a stored client; false when it no longer exists (a deleted client is not brought back). */
    boolean replace(ClientRecord client);

    boolean remove(String clientId);

    /** Records that the client completed a grant at {@code at} (nothing when it is gone). */
    void markUsed(String clientId, Instant at);

    /** Removes the clients that never completed a grant and were created before {@code cutoff}; returns their ids. */
    List<String> removeUnusedCreatedBefore(Instant cutoff);
}
