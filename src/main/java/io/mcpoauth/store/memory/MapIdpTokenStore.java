package io.mcpoauth.store.memory;

import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import java.util.List;

/** {@link IdpTokenStore} over a {@link RecordMap} keyed by user id. */
public final class MapIdpTokenStore implements IdpTokenStore {
    private final RecordMap<IdpTokenRecord> map;

    public MapIdpTokenStore(RecordMap<IdpTokenRecord> map) {
        this.map = map;
    }

    @Override
    public IdpTokenRecord get(String userId) {
        return map.get(userId);
    }

    @Override
    public void put(IdpTokenRecord record) {
        map.update(tx -> {
            tx.put(record.userId(), record);
            return null;
        });
    }

    @Override
    public boolean replace(IdpTokenRecord expected, IdpTokenRecord next) {
        return map.update(tx -> {
            if (!sameCiphertext(tx.get(expected.userId()), expected)) return false;
            tx.put(next.userId(), next);
            return true;
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

    @Override
    public boolean removeIfSame(IdpTokenRecord expected) {
        return map.update(tx -> {
            if (!sameCiphertext(tx.get(expected.userId()), expected)) return false;
            tx.remove(expected.userId());
            return true;
        });
    }

    @Override
    public List<IdpTokenRecord> list() {
        return Sorted.byKey(map.values(), IdpTokenRecord::userId);
    }

    @Override
    public int count() {
        return map.size();
    }

    private static boolean sameCiphertext(IdpTokenRecord a, IdpTokenRecord b) {
        return a != null && b != null && a.ciphertext().equals(b.ciphertext());
    }
}
