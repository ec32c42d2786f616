package io.mcpoauth.store.file;

import io.mcpoauth.store.UserRecord;
import java.time.Instant;
import java.util.Collection;
import java.util.Locale;

/** Users, durable in {@code users.json} (indented). Local users are keyed {@code local:<name>}. */
public final class Users {
    public static final String FILE = "users.json";
    private final DurableMap<UserRecord> map;

    public Users(FileStore store) {
        this.map = store.map(FILE, "users", UserRecord.class, SnapshotFormat.Layout.INDENTED);
    }

    public static String localId(String username) {
        return "local:" + username.toLowerCase(Locale.ROOT);
    }

    public UserRecord get(String userId) {
        return userId == null ? null : map.get(userId);
    }

    public UserRecord local(String username) {
        return username == null ? null : map.get(localId(username));
    }

    public Collection<UserRecord> all() {
        return map.values();
    }

    public int size() {
        return map.size();
    }

    /** Adds the user unless one with that id exists; returns false then. */
    public boolean add(UserRecord user) {
        return map.update(tx -> {
            if (tx.get(user.userId()) != null) return false;
            tx.put(user.userId(), user);
            return true;
        });
    }

    /** Adds or replaces. */
    public void put(UserRecord user) {
        map.update(tx -> {
            tx.put(user.userId(), user);
            return null;
        });
    }

    public boolean remove(String userId) {
        return map.update(tx -> {
            if (tx.get(userId) == null) return false;
            tx.remove(userId);
            return true;
        });
    }

    /** Records a sign-in; writes at most once a minute per user. */
    public void touchLogin(String userId, Instant now) {
        UserRecord u = map.get(userId);
        if (u == null || u.lastLoginAt() != null && u.lastLoginAt().plusSeconds(60).isAfter(now)) return;
        map.update(tx -> {
            UserRecord cur = tx.get(userId);
            if (cur != null) tx.put(userId, cur.withLastLoginAt(now));
            return null;
        });
    }
}
