package io.mcpoauth.store;

import java.util.Collection;

/**
 * Users' upstream tokens, durable in {@code upstream_tokens.json} (one line per user), ciphertexts only. Changes go
 * through {@link DurableMap#update}: a method returns once its change is on disk.
 */
public final class UpstreamTokens {
    public static final String FILE = "upstream_tokens.json";
    private final DurableMap<UpstreamTokenRecord> map;

    public UpstreamTokens(Store store) {
        this.map = store.map(FILE, "upstream_tokens", UpstreamTokenRecord.class, SnapshotFormat.Layout.ONE_LINE);
    }

    public UpstreamTokenRecord get(String userId) {
        return userId == null ? null : map.get(userId);
    }

    public void put(UpstreamTokenRecord record) {
        map.update(tx -> {
            tx.put(record.userId(), record);
            return null;
        });
    }

    /** Replaces {@code expected} with {@code next} only if {@code expected} is still the stored record. */
    public boolean replace(UpstreamTokenRecord expected, UpstreamTokenRecord next) {
        return map.update(tx -> {
            if (!sameCiphertext(tx.get(expected.userId()), expected)) return false;
            tx.put(next.userId(), next);
            return true;
        });
    }

    public boolean remove(String userId) {
        if (map.get(userId) == null) return false;
        return map.update(tx -> {
            if (tx.get(userId) == null) return false;
            tx.remove(userId);
            return true;
        });
    }

    /** Removes the user's record only if it is still {@code expected} (a sign-in may have replaced it meanwhile). */
    public boolean removeIfSame(UpstreamTokenRecord expected) {
        return map.update(tx -> {
            if (!sameCiphertext(tx.get(expected.userId()), expected)) return false;
            tx.remove(expected.userId());
            return true;
        });
    }

    public Collection<UpstreamTokenRecord> all() {
        return map.values();
    }

    public int size() {
        return map.size();
    }

    private static boolean sameCiphertext(UpstreamTokenRecord a, UpstreamTokenRecord b) {
        return a != null && b != null && a.ciphertext().equals(b.ciphertext());
    }
}
