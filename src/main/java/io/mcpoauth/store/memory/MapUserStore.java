package io.mcpoauth.store.memory;

import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.util.List;

/** {@link UserStore} over a {@link RecordMap} keyed by user id. */
public final class MapUserStore implements UserStore {
    private final RecordMap<UserRecord> map;

    public MapUserStore(RecordMap<UserRecord> map) {
        this.map = map;
    }

    @Override
    public UserRecord get(String userId) {
        return map.get(userId);
    }

    @Override
    public List<UserRecord> list() {
        return Sorted.byKey(map.values(), UserRecord::userId);
    }

    @Override
    public int count() {
        return map.size();
    }

    @Override
    public boolean add(UserRecord user) {
        return map.update(tx -> {
            if (tx.get(user.userId()) != null) return false;
            tx.put(user.userId(), user);
            return true;
        });
    }

    @Override
    public boolean replace(UserRecord expected, UserRecord next) {
        return map.update(tx -> {
            if (!expected.equals(tx.get(expected.userId()))) return false;
            tx.put(next.userId(), next);
            return true;
        });
    }

    @Override
    public void put(UserRecord user) {
        map.update(tx -> {
            tx.put(user.userId(), user);
            return null;
        });
    }

    @Override
    public boolean remove(String userId) {
        if (map.get(userId) == null) return false;
        return map.update(tx -> {
            if (tx.get(userId) == null) return false;
            tx.remove(userId);
            return true;
        });
    }
}
