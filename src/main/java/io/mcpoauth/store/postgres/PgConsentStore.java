package io.mcpoauth.store.postgres;

import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.ConsentStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** Consents in {@code consents}, one row per user and client. */
final class PgConsentStore implements ConsentStore {
    private static final String SELECT = "SELECT user_id, client_id, scopes, granted_at FROM consents";
    private static final String ORDER = " ORDER BY user_id COLLATE \"C\", client_id COLLATE \"C\"";
    static final String UPSERT = "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?) "
            + "ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at";

    private final Database db;

    PgConsentStore(Database db) {
        this.db = db;
    }

    static Object[] values(ConsentRecord r) {
        return new Object[] {r.userId(), r.clientId(), r.scopes(), r.grantedAt()};
    }

    static ConsentRecord read(ResultSet rs) throws SQLException {
        return new ConsentRecord(rs.getString("user_id"), rs.getString("client_id"), Sql.strings(rs, "scopes"), Sql.instant(rs, "granted_at"));
    }

    @Override
    public ConsentRecord get(String userId, String clientId) {
        if (userId == null || clientId == null) return null;
        return db.auto("read a consent", c -> Sql.one(c, SELECT + " WHERE user_id = ? AND client_id = ?", PgConsentStore::read, userId, clientId));
    }

    @Override
    public void put(ConsentRecord consent) {
        db.auto("store a consent", c -> Sql.update(c, UPSERT, values(consent)));
    }

    @Override
    public boolean remove(String userId, String clientId) {
        return db.auto("remove a consent", c -> Sql.update(c, "DELETE FROM consents WHERE user_id = ? AND client_id = ?", userId, clientId) == 1);
    }

    @Override
    public int removeByUser(String userId) {
        return db.auto("remove a user's consents", c -> Sql.update(c, "DELETE FROM consents WHERE user_id = ?", userId));
    }

    @Override
    public int removeByClient(String clientId) {
        return db.auto("remove a client's consents", c -> Sql.update(c, "DELETE FROM consents WHERE client_id = ?", clientId));
    }

    @Override
    public List<ConsentRecord> listByUser(String userId) {
        return db.auto("list consents", c -> Sql.list(c, SELECT + " WHERE user_id = ?" + ORDER, PgConsentStore::read, userId));
    }

    @Override
    public List<ConsentRecord> listByClient(String clientId) {
        return db.auto("list consents", c -> Sql.list(c, SELECT + " WHERE client_id = ?" + ORDER, PgConsentStore::read, clientId));
    }

    @Override
    public List<ConsentRecord> list() {
        return db.auto("list consents", PgConsentStore::all);
    }

    /** Every record, sorted by key. */
    static List<ConsentRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + ORDER, PgConsentStore::read);
    }
}
