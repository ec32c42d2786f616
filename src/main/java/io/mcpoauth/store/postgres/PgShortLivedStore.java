package io.mcpoauth.store.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.ShortLivedStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ShortLivedStore} in one table: the record as JSON under its key, with the columns the store queries (expiry,
 * user and client for the cascades, owners and a sequence for the caps and the eviction order). It keeps the memory
 * store's rules: an owner at its cap loses its oldest record first; when the table holds {@code max} records, expired
 * ones go, then the oldest evictable ones; a put is refused only when everything left may not be evicted.
 *
 * <p>Counting the table on every put would cost a scan, so each instance keeps an estimate (a count at most a second
 * old plus its own puts) and counts exactly, under a lock, only near the limit; then it evicts a hundredth of the
 * limit at once so the next puts are cheap again. Other instances' puts of the last second may overshoot the limit
 * by that many.
 *
 * <p>Writes are committed asynchronously ({@code synchronous_commit = off}: visible to every instance at once, on disk
 * a fraction of a second later). A database crash may lose the last of them: sessions, sign-ins in flight and codes
 * that are not yet redeemed, which is what a restart of a single server loses anyway. What a code produced is safe:
 * the grant is committed synchronously after the code's change, and that commit flushes everything before it.
 */
final class PgShortLivedStore<V extends ShortLivedStore.Owned> implements ShortLivedStore<V> {
    /** Records as JSON; sets keep their order when read back (scopes in the order asked for). */
    static final ObjectMapper JSON = Json.create().registerModule(new SimpleModule("ordered-sets").addAbstractTypeMapping(Set.class, LinkedHashSet.class));
    private static final long RECOUNT_NANOS = 1_000_000_000L;
    private static final int SWEEP_BATCH = 10_000;

    private final Database db;
    private final String table;
    private final Class<V> type;
    private final int max;
    private final AtomicLong estimate = new AtomicLong(Long.MIN_VALUE);
    private volatile long countedAt;

    PgShortLivedStore(Database db, String table, Class<V> type, int max) {
        this.db = db;
        this.table = table;
        this.type = type;
        this.max = max;
    }

    /** Makes the current transaction's commit asynchronous. */
    static void asyncCommit(Connection c) throws SQLException {
        Sql.one(c, "SELECT set_config('synchronous_commit', 'off', true)", rs -> null);
    }

    @Override
    public boolean put(String key, V value, Instant expiresAt, Instant now, ExpiringMap.Policy policy) {
        ExpiringMap.Policy p = policy == null ? ExpiringMap.Policy.KEEP : policy;
        List<ExpiringMap.Owner> owners = p.owners();
        if (owners.size() > 2) throw new IllegalArgumentException("at most two owners per record");
        String json = encode(value);
        boolean stored = db.tx("store a short-lived record", c -> {
            asyncCommit(c);
            for (ExpiringMap.Owner o : owners) {
                Sql.one(c, "SELECT pg_advisory_xact_lock(hashtext(?))", rs -> null, table + " " + o.key());
                Sql.update(c, "DELETE FROM " + table + " WHERE key IN (SELECT key FROM " + table + " WHERE (owner_a = ? OR owner_b = ?) AND key <> ? "
                        + "ORDER BY seq DESC OFFSET ?)", o.key(), o.key(), key, o.cap() - 1);
            }
            if (!makeRoom(c, key, now)) return false;
            Sql.update(c, "INSERT INTO " + table + " (key, value, user_id, client_id, expires_at, evictable, owner_a, owner_b, seq) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, nextval('short_lived_seq')) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                    + "user_id = excluded.user_id, client_id = excluded.client_id, expires_at = excluded.expires_at, evictable = excluded.evictable, "
                    + "owner_a = excluded.owner_a, owner_b = excluded.owner_b, seq = excluded.seq",
                    key, json, value.userId(), value.clientId(), expiresAt, p.evictable(),
                    owners.isEmpty() ? null : owners.get(0).key(), owners.size() < 2 ? null : owners.get(1).key());
            return true;
        });
        if (stored) estimate.incrementAndGet();
        return stored;
    }

    /** False when the table is full of records that may not be evicted. Counts exactly only near the limit (or once a second). */
    private boolean makeRoom(Connection c, String key, Instant now) throws SQLException {
        long est = estimate.get();
        boolean near = est == Long.MIN_VALUE || est + 1 >= max - max / 10;
        if (!near && System.nanoTime() - countedAt < RECOUNT_NANOS) return true;
        if (near) Sql.one(c, "SELECT pg_advisory_xact_lock(?, hashtext(?))", rs -> null, Schema.LOCK_SPACE, table);
        long n = Sql.count(c, "SELECT count(*) FROM " + table + " WHERE key <> ?", key);
        if (n >= max) {
            n -= Sql.update(c, "DELETE FROM " + table + " WHERE expires_at <= ? AND key <> ?", now, key);
            if (n >= max) {
                long room = n - max + 1 + max / 100;
                n -= Sql.update(c, "DELETE FROM " + table + " WHERE key IN (SELECT key FROM " + table + " WHERE evictable AND key <> ? "
                        + "ORDER BY seq LIMIT ?)", key, room);
                if (n >= max) {
                    estimate.set(n);
                    countedAt = System.nanoTime();
                    return false;
                }
            }
        }
        estimate.set(n);
        countedAt = System.nanoTime();
        return true;
    }

    @Override
    public V get(String key, Instant now) {
        if (key == null) return null;
        String json = db.auto("read a short-lived record", c -> Sql.one(c, "SELECT value FROM " + table + " WHERE key = ? AND expires_at > ?",
                rs -> rs.getString(1), key, now));
        return json == null ? null : decode(json);
    }

    @Override
    public V take(String key, Instant now) {
        if (key == null) return null;
        Object[] row = db.tx("take a short-lived record", c -> {
            asyncCommit(c);
            return Sql.one(c, "DELETE FROM " + table + " WHERE key = ? RETURNING value, expires_at > ?",
                    rs -> new Object[] {rs.getString(1), rs.getBoolean(2)}, key, now);
        });
        if (row == null) return null;
        forgotten();
        return (Boolean) row[1] ? decode((String) row[0]) : null;
    }

    @Override
    public boolean replace(String key, V expected, V next, Instant expiresAt, Instant now) {
        if (key == null) return false;
        String json = encode(next);
        return db.tx("change a short-lived record", c -> {
            asyncCommit(c);
            Object[] cur = Sql.one(c, "SELECT value, expires_at > ? FROM " + table + " WHERE key = ? FOR UPDATE",
                    rs -> new Object[] {rs.getString(1), rs.getBoolean(2)}, now, key);
            if (cur == null || !(Boolean) cur[1] || !decode((String) cur[0]).equals(expected)) return false;
            Sql.update(c, "UPDATE " + table + " SET value = ?, user_id = ?, client_id = ?, expires_at = ?, seq = nextval('short_lived_seq') "
                    + "WHERE key = ?", json, next.userId(), next.clientId(), expiresAt, key);
            return true;
        });
    }

    @Override
    public boolean remove(String key) {
        if (key == null) return false;
        boolean removed = db.tx("remove a short-lived record", c -> {
            asyncCommit(c);
            return Sql.update(c, "DELETE FROM " + table + " WHERE key = ?", key) == 1;
        });
        if (removed) forgotten();
        return removed;
    }

    private void forgotten() {
        estimate.updateAndGet(v -> v > 0 ? v - 1 : v);
    }

    @Override
    public int removeByUser(String userId, String keepKey) {
        if (userId == null) return 0;
        return db.auto("remove a user's short-lived records", c -> Sql.update(c, "DELETE FROM " + table + " WHERE user_id = ? AND key IS DISTINCT FROM ?",
                userId, keepKey));
    }

    @Override
    public int removeByClient(String clientId) {
        if (clientId == null) return 0;
        return db.auto("remove a client's short-lived records", c -> Sql.update(c, "DELETE FROM " + table + " WHERE client_id = ?", clientId));
    }

    @Override
    public int sweep(Instant now) {
        int total = 0;
        while (true) {
            int n = db.tx("sweep short-lived records", c -> {
                asyncCommit(c);
                return Sql.update(c, "DELETE FROM " + table + " WHERE ctid IN (SELECT ctid FROM " + table + " WHERE expires_at <= ? LIMIT ?)",
                        now, SWEEP_BATCH);
            });
            total += n;
            if (n < SWEEP_BATCH) break;
        }
        estimate.set(Long.MIN_VALUE); // counted again at the next put
        return total;
    }

    @Override
    public int count() {
        return db.auto("count short-lived records", c -> (int) Sql.count(c, "SELECT count(*) FROM " + table));
    }

    private String encode(V value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a " + type.getSimpleName(), e);
        }
    }

    private V decode(String json) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored " + type.getSimpleName() + " cannot be read: " + e.getOriginalMessage(), e);
        }
    }
}
