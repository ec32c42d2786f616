package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * Grants: refresh-token families ({@link RefreshFamily}). The rules (token format, rotation, reuse) live above, in
 * {@code oauth}; this is where they are kept, with the one atomic step rotation needs: {@link #replace}.
 */
public interface GrantStore {
    void create(RefreshFamily family);

    RefreshFamily get(String familyId);

    /**
     * Replaces {@code expected} with {@code next} (same family id) only if the stored family is still
     * {@code expected} (same current token hash and rotation count); false when it changed meanwhile or is gone.
     */
    boolean replace(RefreshFamily expected, RefreshFamily next);

    boolean remove(String familyId);

    List<RefreshFamily> removeByUser(String userId);

    List<RefreshFamily> removeByClient(String clientId);

    List<RefreshFamily> removeByUserAndClient(String userId, String clientId);

    /** Removes at most {@code limit} families that expired at or before {@code now}; returns them. */
    List<RefreshFamily> removeExpired(Instant now, int limit);

    /** How many families expired at or before {@code now}. */
    int countExpired(Instant now);

    List<RefreshFamily> listByUser(String userId);

    /** Every family, sorted by id. */
    List<RefreshFamily> list();

    /** The clients that hold at least one family. */
    default java.util.Set<String> clientIds() {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (RefreshFamily f : list()) ids.add(f.clientId());
        return ids;
    }

    int count();
}
