package io.mcpoauth.store.memory;

import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import java.util.ArrayList;
import java.util.List;

/** {@link ConnectionStore} over a {@link RecordMap} keyed by {@link ConnectionRecord#key()}. */
public final class MapConnectionStore implements ConnectionStore {
    private final RecordMap<ConnectionRecord> map;

    public MapConnectionStore(RecordMap<ConnectionRecord> map) {
        this.map = map;
    }

    @Override
    public ConnectionRecord get(String userId, String name) {
        return userId == null || name == null ? null : map.get(ConnectionRecord.key(userId, name));
    }

    @Override
    public List<ConnectionRecord> listByUser(String userId) {
        List<ConnectionRecord> out = new ArrayList<>();
        for (ConnectionRecord r : map.values()) if (r.userId().equals(userId)) out.add(r);
        return Sorted.byKey(out, ConnectionRecord::name);
    }

    @Override
    public List<ConnectionRecord> list() {
        return Sorted.byKey(map.values(), ConnectionRecord::key);
    }

    @Override
    public void put(ConnectionRecord record) {
        map.update(tx -> {
            tx.put(record.key(), record);
            return null;
        });
    }

    @Override
    public boolean replace(ConnectionRecord expected, ConnectionRecord next) {
        return map.update(tx -> {
            ConnectionRecord cur = tx.get(expected.key());
            if (cur == null || cur.revision() != expected.revision()) return false;
            tx.put(next.key(), next);
            return true;
        });
    }

    @Override
    public ConnectionRecord remove(String userId, String name) {
        if (get(userId, name) == null) return null;
        return map.update(tx -> {
            String k = ConnectionRecord.key(userId, name);
            ConnectionRecord cur = tx.get(k);
            if (cur != null) tx.remove(k);
            return cur;
        });
    }

    @Override
    public int removeByUser(String userId) {
        List<ConnectionRecord> mine = listByUser(userId);
        if (mine.isEmpty()) return 0;
        return map.update(tx -> {
            int n = 0;
            for (ConnectionRecord r : mine) {
                if (tx.get(r.key()) != null) {
                    tx.remove(r.key());
                    n++;
                }
            }
            return n;
        });
    }

    @Override
    public int count() {
        return map.size();
    }
}
