package io.mcpoauth.store;

import io.mcpoauth.core.ExpiringMap;
import java.time.Instant;

/**
 * Records that live for minutes or hours (authorization codes, browser sessions, pending authorizations,
 * identity-provider {@code state}): bounded, expiring, by key. The file backend keeps them in memory (a restart forgets them); a shared
 * backend keeps them where every instance sees them, so a sign-in may continue on any instance.
 */
public interface ShortLivedStore<V extends ShortLivedStore.Owned> {
    /** What the cascades need to know of a record: whose it is. Either may be null. */
    interface Owned {
        String userId();

        String clientId();
    }

    /** Stores (or replaces) the record; false when the store is full of live records (the caller answers 503). */
    default boolean put(String key, V value, Instant expiresAt, Instant now) {
        return put(key, value, expiresAt, now, ExpiringMap.Policy.KEEP);
    }

    /**
     * Stores (or replaces) the record under {@code policy}: an evictable record makes room for others when the store
     * is full (the oldest evictable goes first), and a record may count against owners' caps (a client address, a
     * browser), each owner's oldest record making room for its newest.
     */
    boolean put(String key, V value, Instant expiresAt, Instant now, ExpiringMap.Policy policy);

    /** The live record, or null when absent or expired. */
    V get(String key, Instant now);

    /** Removes and returns the live record: of racing callers exactly one gets it. */
    V take(String key, Instant now);

    /** Replaces {@code expected} with {@code next} only if {@code expected} is still the live record. */
    boolean replace(String key, V expected, V next, Instant expiresAt, Instant now);

    boolean remove(String key);

    default int removeByUser(String userId) {
        return removeByUser(userId, null);
    }

    /** Removes every record of {@code userId} except the one under {@code keepKey} (null: all); returns how many. */
    int removeByUser(String userId, String keepKey);

    int removeByClient(String clientId);

    /** Removes expired records; returns how many. */
    int sweep(Instant now);

    int count();
}
