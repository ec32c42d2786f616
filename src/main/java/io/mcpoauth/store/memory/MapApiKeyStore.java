package io.mcpoauth.store.memory;

import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ApiKeyStore;
import java.util.ArrayList;
import java.util.List;

/** {@link ApiKeyStore} over a {@link RecordMap} keyed by key id. */
public final class MapApiKeyStore implements ApiKeyStore {
    private final RecordMap<ApiKeyRecord> map;

    public MapApiKeyStore(RecordMap<ApiKeyRecord> map) {
        this.map = map;
    }

    @Override
    public void create(ApiKeyRecord key) {
        map.update(tx -> {
            if (tx.get(key.id()) != null) throw new IllegalStateException("API key id " + key.id() + " is taken");
            tx.put(key.id(), key);
            return null;
        });
    }

    @Override
    public ApiKeyRecord get(String id) {
        return map.get(id);
    }

    @Override
    public boolean replace(ApiKeyRecord expected, ApiKeyRecord next) {
        return map.update(tx -> {
            if (!expected.equals(tx.get(expected.id()))) return false;
            tx.put(next.id(), next);
            return true;
        });
    }

    @Override
    public boolean remove(String id) {
        if (map.get(id) == null) return false;
        return map.update(tx -> {
            if (tx.get(id) == null) return false;
            tx.remove(id);
            return true;
        });
    }

    @Override
    public List<ApiKeyRecord> removeByUser(String userId) {
        List<String> ids = new ArrayList<>();
        for (ApiKeyRecord r : map.values()) {
            if (r.userId().equals(userId)) ids.add(r.id());
        }
        if (ids.isEmpty()) return List.of();
        return map.update(tx -> {
            List<ApiKeyRecord> removed = new ArrayList<>();
            for (String id : ids) {
                ApiKeyRecord r = tx.get(id);
                if (r != null && r.userId().equals(userId)) {
                    tx.remove(id);
                    removed.add(r);
                }
            }
            return removed;
        });
    }

    @Override
    public List<ApiKeyRecord> list() {
        return Sorted.byKey(map.values(), ApiKeyRecord::id);
    }

    @Override
    public int count() {
        return map.size();
    }
}
