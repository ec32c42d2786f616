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
     * The family as this store last wrote it, without asking anyone, or null: possibly outdated (another instance may
     * have rotated or removed it since), so it is only ever the {@code expected} of a {@link #replace}, which checks it.
     * A store whose {@link #get} costs nothing has none.
     */
    default RefreshFamily recent(String familyId) {
        return null;
    }

    /**
     * Replaces {@code expected} with {@code next} (same family id) only if the stored family is still
     * {@code expected} (same current token hash and rotation count); false when it changed meanwhile or is gone.
     */
    boolean replace(RefreshFamily expected, RefreshFamily next);

    /** How a {@link #replace(RefreshFamily, RefreshFamily, AccessTokenStore, String, AccessToken, Instant)} ended. */
    enum Replaced {
        /** The family was replaced and the access token stored. */
        WITH_TOKEN,
        /** The family had changed or is gone: nothing was stored. */
        CHANGED,
        /** The family was replaced, but the access token store is full of live tokens. */
        NO_ROOM_FOR_TOKEN
    }

    /**
     * {@link #replace}, and once it succeeded the access token issued with the rotation, put into {@code tokens}. A
     * store that keeps those tokens too writes both in one commit (nothing of either when the family changed).
     */
    default Replaced replace(RefreshFamily expected, RefreshFamily next, AccessTokenStore tokens, String tokenHash, AccessToken token, Instant now) {
        if (!replace(expected, next)) return Replaced.CHANGED;
        return tokens.put(tokenHash, token, now) ? Replaced.WITH_TOKEN : Replaced.NO_ROOM_FOR_TOKEN;
    }

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
