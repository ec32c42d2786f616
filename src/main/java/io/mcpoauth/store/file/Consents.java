package io.mcpoauth.store.file;

import io.mcpoauth.store.ConsentRecord;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Remembered consents per user and client, so a reconnect never asks again unless the scopes widen. */
public final class Consents {
    public static final String FILE = "consents.json";
    private final DurableMap<ConsentRecord> map;

    public Consents(FileStore store) {
        this.map = store.map(FILE, "consents", ConsentRecord.class, SnapshotFormat.Layout.ONE_LINE);
    }

    private static String key(String userId, String clientId) {
        return userId + " " + clientId;
    }

    /** True when the user already approved every one of {@code scopes} for this client. */
    public boolean covers(String userId, String clientId, Set<String> scopes) {
        ConsentRecord c = map.get(key(userId, clientId));
        return c != null && c.scopes().containsAll(scopes);
    }

    /** Remembers the approval, widening an earlier one. */
    public void grant(String userId, String clientId, Set<String> scopes, Instant now) {
        map.update(tx -> {
            ConsentRecord cur = tx.get(key(userId, clientId));
            TreeSet<String> all = new TreeSet<>(scopes);
            if (cur != null) all.addAll(cur.scopes());
            if (cur != null && cur.scopes().containsAll(all)) return null;
            tx.put(key(userId, clientId), new ConsentRecord(userId, clientId, List.copyOf(all), now));
            return null;
        });
    }

    public boolean revoke(String userId, String clientId) {
        return map.update(tx -> {
            if (tx.get(key(userId, clientId)) == null) return false;
            tx.remove(key(userId, clientId));
            return true;
        });
    }

    /** Forgets every consent matching; returns how many. */
    public int revokeIf(java.util.function.Predicate<ConsentRecord> which) {
        return map.update(tx -> {
            int n = 0;
            for (ConsentRecord c : map.values()) {
                if (which.test(c)) {
                    tx.remove(key(c.userId(), c.clientId()));
                    n++;
                }
            }
            return n;
        });
    }

    public Collection<ConsentRecord> all() {
        return map.values();
    }
}
