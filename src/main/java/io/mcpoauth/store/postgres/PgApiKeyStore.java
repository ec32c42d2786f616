package io.mcpoauth.store.postgres;

import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ApiKeyStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** API keys in {@code api_keys} (the SHA-256 of each key only); {@link #replace} compares the stored record under a row lock. */
final class PgApiKeyStore implements ApiKeyStore {
    private static final String COLUMNS = "id, user_id, name, scopes, hash, created_at, last_used_at";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM api_keys";
    static final String INSERT = "INSERT INTO api_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)";

    private final Database db;

    PgApiKeyStore(Database db) {
        this.db = db;
    }

    static Object[] values(ApiKeyRecord k) {
        return new Object[] {k.id(), k.userId(), k.name(), k.scopes(), k.hash(), k.createdAt(), k.lastUsedAt()};
    }

    static ApiKeyRecord read(ResultSet rs) throws SQLException {
        return new ApiKeyRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), Sql.strings(rs, "scopes"),
                rs.getString("hash"), Sql.instant(rs, "created_at"), Sql.instant(rs, "last_used_at"));
    }

    private static ApiKeyRecord stored(ApiKeyRecord k) {
        return new ApiKeyRecord(k.id(), k.userId(), k.name(), k.scopes(), k.hash(), Sql.micros(k.createdAt()), Sql.micros(k.lastUsedAt()));
    }

    @Override
    public void create(ApiKeyRecord key) {
        int n = db.auto("store an API key", c -> Sql.update(c, INSERT + " ON CONFLICT (id) DO NOTHING", values(key)));
        if (n == 0) throw new IllegalStateException("API key id " + key.id() + " is taken");
    }

    @Override
    public ApiKeyRecord get(String id) {
        if (id == null) return null;
        return db.auto("read an API key", c -> Sql.one(c, SELECT + " WHERE id = ?", PgApiKeyStore::read, id));
    }

    @Override
    public boolean replace(ApiKeyRecord expected, ApiKeyRecord next) {
        return db.tx("change an API key", c -> {
            ApiKeyRecord cur = Sql.one(c, SELECT + " WHERE id = ? FOR UPDATE", PgApiKeyStore::read, expected.id());
            if (cur == null || !cur.equals(stored(expected))) return false;
            Sql.update(c, "UPDATE api_keys SET user_id = ?, name = ?, scopes = ?, hash = ?, created_at = ?, last_used_at = ? WHERE id = ?",
                    next.userId(), next.name(), next.scopes(), next.hash(), next.createdAt(), next.lastUsedAt(), next.id());
            return true;
        });
    }

    @Override
    public boolean remove(String id) {
        if (id == null) return false;
        return db.auto("remove an API key", c -> Sql.update(c, "DELETE FROM api_keys WHERE id = ?", id) == 1);
    }

    @Override
    public List<ApiKeyRecord> removeByUser(String userId) {
        return db.auto("remove a user's API keys", c -> Sql.list(c, "DELETE FROM api_keys WHERE user_id = ? RETURNING " + COLUMNS,
                PgApiKeyStore::read, userId));
    }

    @Override
    public List<ApiKeyRecord> list() {
        return db.auto("list API keys", PgApiKeyStore::all);
    }

    /** Every record, sorted by key. */
    static List<ApiKeyRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY id COLLATE \"C\"", PgApiKeyStore::read);
    }

    @Override
    public int count() {
        return db.auto("count API keys", c -> (int) Sql.count(c, "SELECT count(*) FROM api_keys"));
    }
}
