package io.mcpoauth.oauth;

import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.ConsentStore;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Remembered consents per user and client, so a reconnect never asks again unless the scopes widen. */
public final class Consents {
    private final ConsentStore store;

    public Consents(ConsentStore store) {
        this.store = store;
    }

    /** True when the user already approved every one of {@code scopes} for this client. */
    public boolean covers(String userId, String clientId, Set<String> scopes) {
        ConsentRecord c = store.get(userId, clientId);
        return c != null && c.scopes().containsAll(scopes);
    }

    /** Remembers the approval, widening an earlier one. */
    public void grant(String userId, String clientId, Set<String> scopes, Instant now) {
        ConsentRecord cur = store.get(userId, clientId);
        TreeSet<String> all = new TreeSet<>(scopes);
        if (cur != null) {
            if (cur.scopes().containsAll(all)) return;
            all.addAll(cur.scopes());
        }
        store.put(new ConsentRecord(userId, clientId, List.copyOf(all), now));
    }

    public List<ConsentRecord> ofUser(String userId) {
        return store.listByUser(userId);
    }

    public List<ConsentRecord> ofClient(String clientId) {
        return store.listByClient(clientId);
    }
}
