package io.mcpoauth.store.postgres;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.ApiKeyStore;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.CodeRecord;
import io.mcpoauth.store.ConnectionStore;
import io.mcpoauth.store.ConsentStore;
import io.mcpoauth.store.Contents;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.IdpStateRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.NoteStore;
import io.mcpoauth.store.PendingRecord;
import io.mcpoauth.store.SessionRecord;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL backend ({@code STORE=postgres}): everything in one database, shared by every instance that uses it,
 * the short-lived records too (access tokens, codes, browser sessions, pending authorizations, sign-ins in flight),
 * so a request may land on any instance at any step. The schema is created and migrated at start ({@link Schema}).
 */
public final class PgStores implements Stores {
    private static final Logger LOG = LoggerFactory.getLogger(PgStores.class);
    /** The most records of each short-lived kind that are not browser sessions or pending authorizations. */
    public static final int MAX_SHORT_LIVED = 100_000;
    public static final int ACCESS_TOKENS_PER_GRANT = 5;
    /** Clients and users each instance keeps in memory (each table), while it hears every instance's changes. */
    public static final int CACHED_RECORDS = 20_000;
    /** The application name the server's connections carry (pg_stat_activity), unless DATABASE_URL sets another. */
    public static final String SERVER_APPLICATION = "mcp-oauth-server";
    /** The application name of the commands' connections (store migrate, users add...). */
    public static final String COMMAND_APPLICATION = "mcp-oauth-server command";

    private final Database db;
    private final ClientStore clients;
    private final GrantStore grants;
    private final UserStore users;
    private final ConsentStore consents;
    private final ApiKeyStore apiKeys;
    private final NoteStore notes;
    private final IdpTokenStore idpTokens;
    private final ConnectionStore connections;
    private final AccessTokenStore accessTokens;
    private final ShortLivedStore<CodeRecord> codes;
    private final ShortLivedStore<IdpStateRecord> idpStates;
    private final ShortLivedStore<SessionRecord> sessions;
    private final ShortLivedStore<PendingRecord> pending;
    private final Schema.Outcome schema;
    /** Every instance's changes to clients and users, which these caches of them forget. */
    final Changes changes;

    private PgStores(Database db, String schemaName, Schema.Outcome schema, int maxBrowserSessions) {
        this.db = db;
        this.schema = schema;
        this.changes = new Changes(db, schemaName);
        this.clients = new PgClientStore(db, changes.cache("clients", CACHED_RECORDS));
        this.users = new PgUserStore(db, changes.cache("users", CACHED_RECORDS));
        this.consents = new PgConsentStore(db);
        this.apiKeys = new PgApiKeyStore(db);
        this.notes = new PgNoteStore(db);
        this.idpTokens = new PgIdpTokenStore(db);
        this.connections = new PgConnectionStore(db);
        PgAccessTokenStore tokens = new PgAccessTokenStore(db, ACCESS_TOKENS_PER_GRANT);
        this.accessTokens = tokens;
        this.grants = new PgGrantStore(db, tokens);
        this.codes = new PgShortLivedStore<>(db, "authorization_codes", CodeRecord.class, MAX_SHORT_LIVED);
        this.idpStates = new PgShortLivedStore<>(db, "idp_states", IdpStateRecord.class, MAX_SHORT_LIVED);
        this.sessions = new PgShortLivedStore<>(db, "browser_sessions", SessionRecord.class, maxBrowserSessions);
        this.pending = new PgShortLivedStore<>(db, "pending_authorizations", PendingRecord.class, maxBrowserSessions);
    }

    /** {@code DATABASE_URL}, {@code DATABASE_PASSWORD}, {@code DATABASE_POOL_SIZE} and {@code MAX_BROWSER_SESSIONS}. */
    public static PgStores open(Settings settings) {
        return open(settings.databaseUrl, settings.databasePassword, settings.databasePoolSize, settings.maxBrowserSessions);
    }

    /**
     * Connects, creates or migrates the schema, and opens the pool.
     *
     * @throws io.mcpoauth.config.ConfigException when the URL is malformed
     * @throws StoreException (refused) when the database cannot be used: unreachable, wrong credentials, newer schema
     */
    public static PgStores open(String url, String password, int poolSize, int maxBrowserSessions) {
        return open(url, password, poolSize, maxBrowserSessions, null);
    }

    /** @param applicationName what pg_stat_activity shows for these connections (null: the URL's, else {@link #SERVER_APPLICATION}) */
    public static PgStores open(String url, String password, int poolSize, int maxBrowserSessions, String applicationName) {
        DatabaseUrl parsed = DatabaseUrl.parse(url, password);
        if (applicationName != null) {
            parsed.properties().setProperty("ApplicationName", applicationName);
        } else if (SERVER_APPLICATION.equals(parsed.properties().getProperty("ApplicationName"))) {
            // a server's connections name their schema: several deployments (or test runs) may share one database
            parsed.properties().setProperty("ApplicationName", serverApplication(parsed.schema()));
        }
        Database db = Database.open(parsed, poolSize);
        try {
            Schema.Outcome o;
            try (Connection c = db.direct()) {
                o = Schema.migrate(c, parsed.schema(), "mcp-oauth-server " + version());
            } catch (SQLException e) {
                throw StoreException.refused("Cannot prepare the schema " + parsed.schema() + " in " + parsed.redacted() + ": " + Database.describe(e));
            }
            if (o.before() == 0) LOG.info("Created the schema {} (version {}) in {}", parsed.schema(), o.after(), parsed.redacted());
            PgStores stores = new PgStores(db, parsed.schema(), o, maxBrowserSessions);
            stores.changes.start();
            return stores;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    static String version() {
        String v = PgStores.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public ClientStore clients() {
        return clients;
    }

    @Override
    public GrantStore grants() {
        return grants;
    }

    @Override
    public UserStore users() {
        return users;
    }

    @Override
    public ConsentStore consents() {
        return consents;
    }

    @Override
    public ApiKeyStore apiKeys() {
        return apiKeys;
    }

    @Override
    public NoteStore notes() {
        return notes;
    }

    @Override
    public IdpTokenStore idpTokens() {
        return idpTokens;
    }

    @Override
    public ConnectionStore connections() {
        return connections;
    }

    @Override
    public AccessTokenStore accessTokens() {
        return accessTokens;
    }

    @Override
    public ShortLivedStore<CodeRecord> codes() {
        return codes;
    }

    @Override
    public ShortLivedStore<IdpStateRecord> idpStates() {
        return idpStates;
    }

    @Override
    public ShortLivedStore<SessionRecord> sessions() {
        return sessions;
    }

    @Override
    public ShortLivedStore<PendingRecord> pending() {
        return pending;
    }

    /** Every durable record, read in one REPEATABLE READ transaction: one consistent view however busy the instances are. */
    @Override
    public Contents contents() {
        return db.snapshot("export the database", c -> new Contents(PgClientStore.all(c), PgGrantStore.all(c), PgUserStore.all(c),
                PgConsentStore.all(c), PgApiKeyStore.all(c), PgNoteStore.all(c), PgIdpTokenStore.all(c), PgConnectionStore.all(c)));
    }

    /** Stores everything in one transaction; refused when the database already holds records. */
    @Override
    public void load(Contents contents) {
        db.tx("import records", c -> {
            Sql.one(c, "SELECT pg_advisory_xact_lock(?, ?)", rs -> null, Schema.LOCK_SPACE, Schema.LOCK_CLIENTS);
            Sql.update(c, "SET LOCAL statement_timeout = 0");
            Map<String, Long> held = counts(c);
            long total = held.values().stream().mapToLong(Long::longValue).sum();
            if (total > 0) throw StoreException.refused("The database " + db.url.redacted() + " already holds records (" + nonZero(held) + "); "
                    + "import only into an empty one.");
            batch(c, PgClientStore.UPSERT, contents.clients(), PgClientStore::values);
            batch(c, PgUserStore.UPSERT, contents.users(), PgUserStore::values);
            batch(c, PgGrantStore.UPSERT_SQL, contents.grants(), PgGrantStore::values);
            batch(c, PgConsentStore.UPSERT, contents.consents(), PgConsentStore::values);
            batch(c, PgApiKeyStore.INSERT, contents.apiKeys(), PgApiKeyStore::values);
            for (NoteRecord n : contents.notes()) PgNoteStore.put(c, n);
            batch(c, PgIdpTokenStore.UPSERT, contents.idpTokens(), PgIdpTokenStore::values);
            batch(c, PgConnectionStore.UPSERT, contents.connections(), PgConnectionStore::values);
            return null;
        });
    }

    private static <T> void batch(Connection c, String sql, List<T> records, Function<T, Object[]> values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int n = 0;
            for (T r : records) {
                Sql.bind(c, ps, values.apply(r));
                ps.addBatch();
                if (++n % 1000 == 0) ps.executeBatch();
            }
            if (n % 1000 != 0) ps.executeBatch();
        }
    }

    /** Rows per data table. */
    public Map<String, Long> tableCounts() {
        return db.snapshot("count the tables", PgStores::counts);
    }

    private static Map<String, Long> counts(Connection c) throws SQLException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String t : Schema.DATA_TABLES) m.put(t, Sql.count(c, "SELECT count(*) FROM " + t));
        return m;
    }

    private static String nonZero(Map<String, Long> counts) {
        StringBuilder b = new StringBuilder();
        counts.forEach((t, n) -> {
            if (n > 0) b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(t);
        });
        return b.toString();
    }

    /** What a server's connections to {@code schema} show in pg_stat_activity. */
    static String serverApplication(String schema) {
        return SERVER_APPLICATION + "/" + schema;
    }

    /** How many connections servers (not commands) hold to this schema of the database right now, from any host. */
    public int serverConnections() {
        return db.auto("count the servers' connections", c -> (int) Sql.count(c, "SELECT count(*) FROM pg_stat_activity "
                + "WHERE datname = current_database() AND application_name = ?", serverApplication(db.url.schema())));
    }

    /** The schema version of the database, and the oldest server schema that may use it. */
    public int[] schemaVersion() {
        return new int[] {schema.after(), schema.compatibleFrom()};
    }

    /**
     * Takes a session-level advisory lock ({@code pg_try_advisory_lock}) on a connection of its own, outside the pool,
     * and closes that connection afterwards, which releases the lock whatever happened meanwhile.
     */
    @Override
    public boolean exclusively(String name, Runnable work) {
        try (Connection c = db.direct()) {
            boolean mine = Sql.one(c, "SELECT pg_try_advisory_lock(?, hashtext(?))", rs -> rs.getBoolean(1), Schema.LOCK_SPACE + 1, name);
            if (!mine) return false;
            work.run();
            return true;
        } catch (SQLException e) {
            throw db.failure("take the " + name + " lock", e);
        }
    }

    /** In the table {@code server_keys}: the first instance to ask creates it, every other one reads the same. */
    @Override
    public byte[] sharedKey(String name) {
        byte[] fresh = io.mcpoauth.core.Secrets.randomBytes(32);
        return db.tx("read a shared key", c -> {
            Sql.update(c, "INSERT INTO server_keys (name, key) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, fresh);
            return Sql.one(c, "SELECT key FROM server_keys WHERE name = ?", rs -> rs.getBytes(1), name);
        });
    }

    @Override
    public String describe() {
        return "the database " + db.url.redacted() + " (schema " + db.url.schema() + ")";
    }

    @Override
    public String problem() {
        return db.problem();
    }

    /** Connections in use, idle, and requests waiting for one. */
    public int[] poolState() {
        return db.poolState();
    }

    @Override
    public void close() {
        changes.close();
        ((PgGrantStore) grants).close();
        ((PgClientStore) clients).close();
        ((PgUserStore) users).close();
        ((PgAccessTokenStore) accessTokens).close();
        db.close();
    }
}
