package io.mcpoauth.store.file;

import io.mcpoauth.store.IdpTokenRecord;
import java.util.Collection;

/**
 * Users' upstream tokens, durable in {@code upstream_tokens.json} (one line per user), ciphertexts only. Changes go
 * through {@link DurableMap#update}: a method returns once its change is on disk.
 */
public final class IdpTokens {
    public static final String FILE = "upstream_tokens.json";
    private final DurableMap<IdpTokenRecord> map;

    public IdpTokens(FileStore store) {
        this.map = store.map(FILE, "upstream_tokens", IdpTokenRecord.class, SnapshotFormat.Layout.ONE_LINE);
    }

    public IdpTokenRecord get(String userId) {
        return userId == null ? null : map.get(userId);
    }

    public void put(IdpTokenRecord record) {
        map.update(tx -> {
            tx.put(record.userId(), record);
            return null;
        });
    }

    /** Replaces {@code expected} with {@code next} only if {@code expected} is still the stored record. */
    public boolean replace(IdpTokenRecord expected, IdpTokenRecord next) {
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
    public boolean removeIfSame(IdpTokenRecord expected) {
        return map.update(tx -> {
            if (!sameCiphertext(tx.get(expected.userId()), expected)) return false;
            tx.remove(expected.userId());
            return true;
        });
    }

    public Collection<IdpTokenRecord> all() {
        return map.values();
    }

    public int size() {
        return map.size();
    }

    private static boolean sameCiphertext(IdpTokenRecord a, IdpTokenRecord b) {
        return a != null && b != null && a.ciphertext().equals(b.ciphertext());
    }
}
