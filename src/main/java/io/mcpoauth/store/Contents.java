package io.mcpoauth.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every durable record of a store, as one consistent view: what {@code store migrate} copies between backends and what
 * a backup of the database writes in the file backend's format. Short-lived records (access tokens, codes, sessions,
 * sign-ins in flight) are not part of it: clients refresh and browsers sign in again.
 */
public record Contents(List<ClientRecord> clients, List<RefreshFamily> grants, List<UserRecord> users, List<ConsentRecord> consents,
                       List<ApiKeyRecord> apiKeys, List<NoteRecord> notes, List<IdpTokenRecord> idpTokens,
                       List<ConnectionRecord> connections) {
    public Contents {
        clients = List.copyOf(clients);
        grants = List.copyOf(grants);
        users = List.copyOf(users);
        consents = List.copyOf(consents);
        apiKeys = List.copyOf(apiKeys);
        notes = List.copyOf(notes);
        idpTokens = List.copyOf(idpTokens);
        connections = connections == null ? List.of() : List.copyOf(connections);
    }

    /** How many records of each kind, in a fixed order (for messages and checks). */
    public Map<String, Integer> counts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("clients", clients.size());
        m.put("grants", grants.size());
        m.put("users", users.size());
        m.put("consents", consents.size());
        m.put("api_keys", apiKeys.size());
        m.put("notes", notes.size());
        m.put("upstream_tokens", idpTokens.size());
        m.put("connections", connections.size());
        return m;
    }

    public int total() {
        return counts().values().stream().mapToInt(Integer::intValue).sum();
    }

    public boolean isEmpty() {
        return total() == 0;
    }
}
