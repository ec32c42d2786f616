package io.mcpoauth.store.memory;

import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** {@link GrantStore} over a {@link RecordMap} keyed by family id (the map may still be loading: it is asked for on use). */
public final class MapGrantStore implements GrantStore {
    private final Supplier<RecordMap<RefreshFamily>> map;

    public MapGrantStore(RecordMap<RefreshFamily> map) {
        this(() -> map);
    }

    public MapGrantStore(Supplier<RecordMap<RefreshFamily>> map) {
        this.map = map;
    }

    @Override
    public void create(RefreshFamily family) {
        map.get().update(tx -> {
            tx.put(family.familyId(), family);
            return null;
        });
    }

    @Override
    public RefreshFamily get(String familyId) {
        return familyId == null ? null : map.get().get(familyId);
    }

    @Override
    public boolean replace(RefreshFamily expected, RefreshFamily next) {
        if (!expected.familyId().equals(next.familyId())) throw new IllegalArgumentException("a family keeps its id");
        return map.get().update(tx -> {
            RefreshFamily cur = tx.get(expected.familyId());
            if (!sameVersion(cur, expected)) return false;
            tx.put(next.familyId(), next);
            return true;
        });
    }

    static boolean sameVersion(RefreshFamily cur, RefreshFamily expected) {
        return cur != null && cur.rotations() == expected.rotations() && Objects.equals(cur.tokenHash(), expected.tokenHash())
                && Objects.equals(cur.previousHash(), expected.previousHash()) && cur.graceUsed() == expected.graceUsed();
    }

    @Override
    public boolean remove(String familyId) {
        if (get(familyId) == null) return false;
        return map.get().update(tx -> {
            if (tx.get(familyId) == null) return false;
            tx.remove(familyId);
            return true;
        });
    }

    @Override
    public List<RefreshFamily> removeByUser(String userId) {
        return removeIf(f -> f.userId().equals(userId), Integer.MAX_VALUE);
    }

    @Override
    public List<RefreshFamily> removeByClient(String clientId) {
        return removeIf(f -> f.clientId().equals(clientId), Integer.MAX_VALUE);
    }

    @Override
    public List<RefreshFamily> removeByUserAndClient(String userId, String clientId) {
        return removeIf(f -> f.userId().equals(userId) && f.clientId().equals(clientId), Integer.MAX_VALUE);
    }

    @Override
    public List<RefreshFamily> removeExpired(Instant now, int limit) {
        return removeIf(f -> f.expired(now), limit);
    }

    @Override
    public int countExpired(Instant now) {
        int n = 0;
        for (RefreshFamily f : map.get().values()) {
            if (f.expired(now)) n++;
        }
        return n;
    }

    private List<RefreshFamily> removeIf(Predicate<RefreshFamily> which, int limit) {
        List<String> ids = new ArrayList<>();
        for (RefreshFamily f : map.get().values()) {
            if (ids.size() >= limit) break;
            if (which.test(f)) ids.add(f.familyId());
        }
        if (ids.isEmpty()) return List.of();
        return map.get().update(tx -> {
            List<RefreshFamily> removed = new ArrayList<>();
            for (String id : ids) {
                RefreshFamily f = tx.get(id);
                if (f != null && which.test(f)) {
                    tx.remove(id);
                    removed.add(f);
                }
            }
            return removed;
        });
    }

    @Override
    public List<RefreshFamily> listByUser(String userId) {
        return Sorted.filtered(map.get().values(), f -> f.userId().equals(userId), RefreshFamily::familyId);
    }

    @Override
    public List<RefreshFamily> list() {
        return Sorted.byKey(map.get().values(), RefreshFamily::familyId);
    }

    @Override
    public int count() {
        return map.get().size();
    }
}
