package io.mcpoauth.store.file;

import io.mcpoauth.store.ClientRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Registered clients, durable in {@code clients.json} (indented, so admins can read who is connected). */
public final class Clients {
    public static final String FILE = "clients.json";
    private static final Duration LAST_USED_RESOLUTION = Duration.ofHours(1);

    private final DurableMap<ClientRecord> map;

    public Clients(FileStore store) {
        this.map = store.map(FILE, "clients", ClientRecord.class, SnapshotFormat.Layout.INDENTED);
    }

    public ClientRecord get(String clientId) {
        return clientId == null ? null : map.get(clientId);
    }

    public Collection<ClientRecord> all() {
        return map.values();
    }

    public int size() {
        return map.size();
    }

    /** Adds or replaces a client; returns once it is durable. */
    public void put(ClientRecord client) {
        map.update(tx -> {
            tx.put(client.clientId(), client);
            return null;
        });
    }

    /** Adds a client unless {@code maxClients} are already stored; returns false when full. */
    public boolean putIfRoom(ClientRecord client, int maxClients) {
        return map.update(tx -> {
            if (map.size() >= maxClients && tx.get(client.clientId()) == null) return false;
            tx.put(client.clientId(), client);
            return true;
        });
    }

    public boolean remove(String clientId) {
        return map.update(tx -> {
            if (tx.get(clientId) == null) return false;
            tx.remove(clientId);
            return true;
        });
    }

    /** Records that the client completed a grant; writes at most once an hour per client. */
    public void markUsed(String clientId, Instant now) {
        ClientRecord c = map.get(clientId);
        if (c == null || c.lastUsedAt() != null && c.lastUsedAt().plus(LAST_USED_RESOLUTION).isAfter(now)) return;
        map.update(tx -> {
            ClientRecord cur = tx.get(clientId);
            if (cur != null) tx.put(clientId, cur.withLastUsedAt(now));
            return null;
        });
    }

    /** Removes clients that never completed a grant and were created before {@code now - unusedTtl}; returns their ids. */
    public List<String> sweepUnused(Instant now, Duration unusedTtl) {
        Instant cutoff = now.minus(unusedTtl);
        List<String> stale = new ArrayList<>();
        for (ClientRecord c : map.values()) {
            if (c.lastUsedAt() == null && c.createdAt() != null && c.createdAt().isBefore(cutoff)) stale.add(c.clientId());
        }
        if (stale.isEmpty()) return stale;
        return map.update(tx -> {
            List<String> removed = new ArrayList<>();
            for (String id : stale) {
                ClientRecord c = tx.get(id);
                if (c != null && c.lastUsedAt() == null) {
                    tx.remove(id);
                    removed.add(id);
                }
            }
            return removed;
        });
    }

    DurableMap<ClientRecord> map() {
        return map;
    }
}
