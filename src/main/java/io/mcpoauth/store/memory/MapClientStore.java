package io.mcpoauth.store.memory;

import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** {@link ClientStore} over a {@link RecordMap} keyed by client id. */
public final class MapClientStore implements ClientStore {
    private static final Comparator<ClientRecord> OLDEST_FIRST = Comparator
            .comparing((ClientRecord c) -> c.createdAt() == null ? Instant.MIN : c.createdAt())
            .thenComparing(ClientRecord::clientId);
    private final RecordMap<ClientRecord> map;

    public MapClientStore(RecordMap<ClientRecord> map) {
        this.map = map;
    }

    @Override
    public ClientRecord get(String clientId) {
        return map.get(clientId);
    }

    @Override
    public List<ClientRecord> list() {
        return Sorted.byKey(map.values(), ClientRecord::clientId);
    }

    @Override
    public int count() {
        return map.size();
    }

    @Override
    public Added add(ClientRecord client, int max) {
        return map.update(tx -> {
            if (tx.get(client.clientId()) != null || map.size() < max) {
                tx.put(client.clientId(), client);
                return new Added(true, null);
            }
            ClientRecord oldest = null;
            for (ClientRecord c : map.values()) {
                if (c.lastUsedAt() == null && tx.get(c.clientId()) != null && (oldest == null || OLDEST_FIRST.compare(c, oldest) < 0)) oldest = c;
            }
            if (oldest == null) return Added.FULL;
            tx.remove(oldest.clientId());
            tx.put(client.clientId(), client);
            return new Added(true, oldest.clientId());
        });
    }

    @Override
    public boolean replace(ClientRecord client) {
        return map.update(tx -> {
            if (tx.get(client.clientId()) == null) return false;
            tx.put(client.clientId(), client);
            return true;
        });
    }

    @Override
    public boolean remove(String clientId) {
        if (map.get(clientId) == null) return false;
        return map.update(tx -> {
            if (tx.get(clientId) == null) return false;
            tx.remove(clientId);
            return true;
        });
    }

    @Override
    public void markUsed(String clientId, Instant at) {
        map.update(tx -> {
            ClientRecord cur = tx.get(clientId);
            if (cur != null) tx.put(clientId, cur.withLastUsedAt(at));
            return null;
        });
    }

    @Override
    public List<String> removeUnusedCreatedBefore(Instant cutoff) {
        List<String> stale = new ArrayList<>();
        for (ClientRecord c : map.values()) {
            if (unusedBefore(c, cutoff)) stale.add(c.clientId());
        }
        if (stale.isEmpty()) return stale;
        return map.update(tx -> {
            List<String> removed = new ArrayList<>();
            for (String id : stale) {
                ClientRecord c = tx.get(id);
                if (c != null && unusedBefore(c, cutoff)) {
                    tx.remove(id);
                    removed.add(id);
                }
            }
            return removed;
        });
    }

    private static boolean unusedBefore(ClientRecord c, Instant cutoff) {
        return c.lastUsedAt() == null && c.createdAt() != null && c.createdAt().isBefore(cutoff);
    }
}
