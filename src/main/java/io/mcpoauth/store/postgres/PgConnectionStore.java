package io.mcpoauth.store.postgres;

import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** Users' connections in {@code connections}, one row per (user, name): the ciphertexts exactly as the file backend keeps them. */
final class PgConnectionStore implements ConnectionStore {
    private static final String COLUMNS = "user_id, name, key_id, access_ciphertext, refresh_ciphertext, expires_at, scopes, account, status, "
            + "created_at, refreshed_at, last_used_at, refreshing_since, refresh_owner, revision";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM connections";
    static final String UPSERT = "INSERT INTO connections (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (user_id, name) DO UPDATE SET key_id = excluded.key_id, access_ciphertext = excluded.access_ciphertext, "
            + "refresh_ciphertext = excluded.refresh_ciphertext, expires_at = excluded.expires_at, scopes = excluded.scopes, "
            + "account = excluded.account, status = excluded.status, created_at = excluded.created_at, refreshed_at = excluded.refreshed_at, "
            + "last_used_at = excluded.last_used_at, refreshing_since = excluded.refreshing_since, refresh_owner = excluded.refresh_owner, "
            + "revision = excluded.revision";

    private final Database db;

    PgConnectionStore(Database db) {
        this.db = db;
    }

    static Object[] values(ConnectionRecord r) {
        return new Object[] {r.userId(), r.name(), r.keyId(), r.accessCiphertext(), r.refreshCiphertext(), r.expiresAt(), r.scopes(), r.account(),
                r.status(), r.createdAt(), r.refreshedAt(), r.lastUsedAt(), r.refreshingSince(), r.refreshOwner(), r.revision()};
    }

    static ConnectionRecord read(ResultSet rs) throws SQLException {
        return new ConnectionRecord(rs.getString("user_id"), rs.getString("name"), rs.getString("key_id"), rs.getString("access_ciphertext"),
                rs.getString("refresh_ciphertext"), Sql.instant(rs, "expires_at"), Sql.strings(rs, "scopes"), rs.getString("account"),
                rs.getString("status"), Sql.instant(rs, "created_at"), Sql.instant(rs, "refreshed_at"), Sql.instant(rs, "last_used_at"),
                Sql.instant(rs, "refreshing_since"), rs.getString("refresh_owner"), rs.getLong("revision"));
    }

    @Override
    public ConnectionRecord get(String userId, String name) {
        if (userId == null || name == null) return null;
        return db.auto("read a connection", c -> Sql.one(c, SELECT + " WHERE user_id = ? AND name = ?", PgConnectionStore::read, userId, name));
    }

    @Override
    public List<ConnectionRecord> listByUser(String userId) {
        return db.auto("list a user's connections", c -> Sql.list(c, SELECT + " WHERE user_id = ? ORDER BY name COLLATE \"C\"",
                PgConnectionStore::read, userId));
    }

    @Override
    public List<ConnectionRecord> list() {
        return db.auto("list connections", PgConnectionStore::all);
    }

    static List<ConnectionRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY user_id COLLATE \"C\", name COLLATE \"C\"", PgConnectionStore::read);
    }

    @Override
    public void put(ConnectionRecord record) {
        db.auto("store a connection", c -> Sql.update(c, UPSERT, values(record)));
    }

    @Override
    public boolean replace(ConnectionRecord expected, ConnectionRecord next) {
        return db.auto("update a connection", c -> Sql.update(c, "UPDATE connections SET key_id = ?, access_ciphertext = ?, refresh_ciphertext = ?, "
                        + "expires_at = ?, scopes = ?, account = ?, status = ?, created_at = ?, refreshed_at = ?, last_used_at = ?, refreshing_since = ?, "
                        + "refresh_owner = ?, revision = ? WHERE user_id = ? AND name = ? AND revision = ?",
                next.keyId(), next.accessCiphertext(), next.refreshCiphertext(), next.expiresAt(), next.scopes(), next.account(), next.status(),
                next.createdAt(), next.refreshedAt(), next.lastUsedAt(), next.refreshingSince(), next.refreshOwner(), next.revision(),
                expected.userId(), expected.name(), expected.revision()) == 1);
    }

    @Override
    public ConnectionRecord remove(String userId, String name) {
        if (userId == null || name == null) return null;
        return db.auto("remove a connection", c -> Sql.one(c, "DELETE FROM connections WHERE user_id = ? AND name = ? RETURNING " + COLUMNS,
                PgConnectionStore::read, userId, name));
    }

    @Override
    public int removeByUser(String userId) {
        if (userId == null) return 0;
        return db.auto("remove a user's connections", c -> Sql.update(c, "DELETE FROM connections WHERE user_id = ?", userId));
    }

    @Override
    public int count() {
        return db.auto("count connections", c -> (int) Sql.count(c, "SELECT count(*) FROM connections"));
    }
}
