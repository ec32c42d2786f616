package io.mcpoauth.store.postgres;

import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** Users' identity-provider tokens in {@code upstream_tokens}: the ciphertexts exactly as the file backend keeps them. */
final class PgIdpTokenStore implements IdpTokenStore {
    private static final String COLUMNS = "user_id, provider, key_id, ciphertext, scopes, expires_at, refreshable, obtained_at, refreshed_at";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM upstream_tokens";
    static final String UPSERT = "INSERT INTO upstream_tokens (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) "
            + "DO UPDATE SET provider = excluded.provider, key_id = excluded.key_id, ciphertext = excluded.ciphertext, scopes = excluded.scopes, "
            + "expires_at = excluded.expires_at, refreshable = excluded.refreshable, obtained_at = excluded.obtained_at, "
            + "refreshed_at = excluded.refreshed_at";

    private final Database db;

    PgIdpTokenStore(Database db) {
        this.db = db;
    }

    static Object[] values(IdpTokenRecord r) {
        return new Object[] {r.userId(), r.provider(), r.keyId(), r.ciphertext(), r.scopes(), r.expiresAt(), r.refreshable(), r.obtainedAt(),
                r.refreshedAt()};
    }

    static IdpTokenRecord read(ResultSet rs) throws SQLException {
        return new IdpTokenRecord(rs.getString("user_id"), rs.getString("provider"), rs.getString("key_id"), rs.getString("ciphertext"),
                Sql.strings(rs, "scopes"), Sql.instant(rs, "expires_at"), rs.getBoolean("refreshable"), Sql.instant(rs, "obtained_at"),
                Sql.instant(rs, "refreshed_at"));
    }

    @Override
    public IdpTokenRecord get(String userId) {
        if (userId == null) return null;
        return db.auto("read upstream tokens", c -> Sql.one(c, SELECT + " WHERE user_id = ?", PgIdpTokenStore::read, userId));
    }

    @Override
    public void put(IdpTokenRecord record) {
        db.auto("store upstream tokens", c -> Sql.update(c, UPSERT, values(record)));
    }

    @Override
    public boolean replace(IdpTokenRecord expected, IdpTokenRecord next) {
        return db.auto("store refreshed upstream tokens", c -> Sql.update(c, "UPDATE upstream_tokens SET provider = ?, key_id = ?, ciphertext = ?, "
                + "scopes = ?, expires_at = ?, refreshable = ?, obtained_at = ?, refreshed_at = ? WHERE user_id = ? AND ciphertext = ?",
                next.provider(), next.keyId(), next.ciphertext(), next.scopes(), next.expiresAt(), next.refreshable(), next.obtainedAt(),
                next.refreshedAt(), expected.userId(), expected.ciphertext()) == 1);
    }

    @Override
    public boolean remove(String userId) {
        if (userId == null) return false;
        return db.auto("remove upstream tokens", c -> Sql.update(c, "DELETE FROM upstream_tokens WHERE user_id = ?", userId) == 1);
    }

    @Override
    public boolean removeIfSame(IdpTokenRecord expected) {
        return db.auto("remove upstream tokens", c -> Sql.update(c, "DELETE FROM upstream_tokens WHERE user_id = ? AND ciphertext = ?",
                expected.userId(), expected.ciphertext()) == 1);
    }

    @Override
    public List<IdpTokenRecord> list() {
        return db.auto("list upstream tokens", PgIdpTokenStore::all);
    }

    /** Every record, sorted by key. */
    static List<IdpTokenRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY user_id COLLATE \"C\"", PgIdpTokenStore::read);
    }

    @Override
    public int count() {
        return db.auto("count upstream tokens", c -> (int) Sql.count(c, "SELECT count(*) FROM upstream_tokens"));
    }
}
