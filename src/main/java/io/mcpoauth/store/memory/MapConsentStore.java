package io.mcpoauth.store.memory;

import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.ConsentStore;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** {@link ConsentStore} over a {@link RecordMap} keyed by {@code "<userId> <clientId>"}. */
public final class MapConsentStore implements ConsentStore {
    private final RecordMap<ConsentRecord> map;

    public MapConsentStore(RecordMap<ConsentRecord> map) {
        this.map = map;
    }

    /** The key a consent is stored under (user ids and client ids contain no space). */
    public static String key(String userId, String clientId) {
        return userId + " " + clientId;
    }

    @Override
    public ConsentRecord get(String userId, String clientId) {
        return map.get(key(userId, clientId));
    }

    @Override
    public void put(ConsentRecord consent) {
        map.update(tx -> {
            tx.put(key(consent.userId(), consent.clientId()), consent);
            return null;
        });
    }

    @Override
    public boolean remove(String userId, String clientId) {
        String k = key(userId, clientId);
        if (map.get(k) == null) return false;
        return map.update(tx -> {
            if (tx.get(k) == null) return false;
            tx.remove(k);
            return true;
        });
    }

    @Override
    public int removeByUser(String userId) {
        return removeIf(c -> c.userId().equals(userId));
    }

    @Override
    public int removeByClient(String clientId) {
        return removeIf(c -> c.clientId().equals(clientId));
    }

    private int removeIf(Predicate<ConsentRecord> which) {
        List<String> keys = new ArrayList<>();
        for (ConsentRecord c : map.values()) {
            if (which.test(c)) keys.add(key(c.userId(), c.clientId()));
        }
        if (keys.isEmpty()) return 0;
        return map.update(tx -> {
            int n = 0;
            for (String k : keys) {
                ConsentRecord c = tx.get(k);
                if (c != null && which.test(c)) {
                    tx.remove(k);
                    n++;
                }
            }
            return n;
        });
    }

    @Override
    public List<ConsentRecord> listByUser(String userId) {
        return Sorted.filtered(map.values(), c -> c.userId().equals(userId), c -> key(c.userId(), c.clientId()));
    }

    @Override
    public List<ConsentRecord> listByClient(String clientId) {
        return Sorted.filtered(map.values(), c -> c.clientId().equals(clientId), c -> key(c.userId(), c.clientId()));
    }

    @Override
    public List<ConsentRecord> list() {
        return Sorted.byKey(map.values(), c -> key(c.userId(), c.clientId()));
    }
}
