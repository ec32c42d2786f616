package io.mcpoauth.store.postgres;

import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** Users in {@code users}; {@link #replace} compares the whole stored record under a row lock. */
final class PgUserStore implements UserStore {
    static final String COLUMNS = "user_id, username, provider, subject, email, email_verified, name, password_algorithm, "
            + "password_iterations, password_salt, password_hash, created_at, last_login_at";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM users";
    private static final String VALUES = " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    static final String UPSERT = "INSERT INTO users" + VALUES + " ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, "
            + "provider = excluded.provider, subject = excluded.subject, email = excluded.email, email_verified = excluded.email_verified, "
            + "name = excluded.name, password_algorithm = excluded.password_algorithm, password_iterations = excluded.password_iterations, "
            + "password_salt = excluded.password_salt, password_hash = excluded.password_hash, created_at = excluded.created_at, "
            + "last_login_at = excluded.last_login_at";

    private final Database db;
    /** Lookups of concurrent requests (every /mcp call reads its user) share a query. */
    private final GroupRead<UserRecord> reads;
    /** Users as read, while every instance's changes are heard ({@link Changes}). */
    final RecordCache<UserRecord> cache;

    PgUserStore(Database db, RecordCache<UserRecord> cache) {
        this.db = db;
        this.cache = cache;
        this.reads = new GroupRead<>(db, "read a user", GroupRead.THREADS, (c, keys) -> GroupRead.byKeys(c, keys,
                SELECT + " WHERE user_id = ANY(?)", PgUserStore::read, UserRecord::userId));
    }

    void close() {
        reads.close();
    }

    static Object[] values(UserRecord u) {
        UserRecord.Password p = u.password();
        return new Object[] {u.userId(), u.username(), u.provider(), u.subject(), u.email(), u.emailVerified(), u.name(),
                p == null ? null : p.algorithm(), p == null ? null : p.iterations(), p == null ? null : p.salt(), p == null ? null : p.hash(),
                u.createdAt(), u.lastLoginAt()};
    }

    static UserRecord read(ResultSet rs) throws SQLException {
        String algorithm = rs.getString("password_algorithm");
        int iterations = rs.getInt("password_iterations");
        UserRecord.Password p = algorithm == null && rs.getString("password_hash") == null ? null
                : new UserRecord.Password(algorithm, iterations, rs.getString("password_salt"), rs.getString("password_hash"));
        return new UserRecord(rs.getString("user_id"), rs.getString("username"), rs.getString("provider"), rs.getString("subject"),
                rs.getString("email"), Sql.nullableBoolean(rs, "email_verified"), rs.getString("name"), p, Sql.instant(rs, "created_at"),
                Sql.instant(rs, "last_login_at"));
    }

    /** The record as it reads back (instants to the microsecond). */
    static UserRecord stored(UserRecord u) {
        return new UserRecord(u.userId(), u.username(), u.provider(), u.subject(), u.email(), u.emailVerified(), u.name(), u.password(),
                Sql.micros(u.createdAt()), Sql.micros(u.lastLoginAt()));
    }

    @Override
    public UserRecord get(String userId) {
        if (userId == null) return null;
        return cache.get(userId, reads::get);
    }

    @Override
    public List<UserRecord> list() {
        return db.auto("list users", PgUserStore::all);
    }

    /** Every record, sorted by key. */
    static List<UserRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY user_id COLLATE \"C\"", PgUserStore::read);
    }

    @Override
    public int count() {
        return db.auto("count users", c -> (int) Sql.count(c, "SELECT count(*) FROM users"));
    }

    @Override
    public boolean add(UserRecord user) {
        try {
            return db.auto("add a user", c -> Sql.update(c, "INSERT INTO users" + VALUES + " ON CONFLICT (user_id) DO NOTHING", values(user)) == 1);
        } finally {
            cache.forget(user.userId());
        }
    }

    @Override
    public boolean replace(UserRecord expected, UserRecord next) {
        try {
            return db.tx("change a user", c -> {
                UserRecord cur = Sql.one(c, SELECT + " WHERE user_id = ? FOR UPDATE", PgUserStore::read, expected.userId());
                if (cur == null || !cur.equals(stored(expected))) return false;
                Sql.update(c, UPSERT, values(next));
                return true;
            });
        } finally {
            cache.forget(expected.userId()); // changed, or the caller's copy was not the stored one: read it again
            cache.forget(next.userId());
        }
    }

    @Override
    public void put(UserRecord user) {
        try {
            db.auto("store a user", c -> Sql.update(c, UPSERT, values(user)));
        } finally {
            cache.forget(user.userId());
        }
    }

    @Override
    public boolean remove(String userId) {
        if (userId == null) return false;
        try {
            return db.auto("remove a user", c -> Sql.update(c, "DELETE FROM users WHERE user_id = ?", userId) == 1);
        } finally {
            cache.forget(userId);
        }
    }
}
