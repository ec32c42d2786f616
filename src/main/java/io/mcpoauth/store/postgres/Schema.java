package io.mcpoauth.store.postgres;

import io.mcpoauth.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tables, created and migrated by the server itself at start. Each migration is applied whole or not at all (DDL is
 * transactional in PostgreSQL), in one transaction with the version bump, under an advisory lock, so instances
 * starting together wait for each other. {@code schema_version} says which migrations a database has ({@code version})
 * and the oldest server schema that may still use it ({@code compatible_from}): a server refuses a database that is
 * newer than it can use, and uses one that a newer server changed compatibly (which is what lets instances be upgraded
 * one at a time).
 */
final class Schema {
    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);
    /** The schema this server knows. */
    static final int VERSION = 4;
    /** Advisory lock keys: ('mcpo' as int4, purpose). */
    static final int LOCK_SPACE = 0x6d63706f;
    static final int LOCK_MIGRATE = 0;
    static final int LOCK_SWEEP = 1;
    static final int LOCK_CLIENTS = 2;

    /** The short-lived kinds, one table each, all of the same shape. */
    static final List<String> SHORT_LIVED = List.of("authorization_codes", "idp_states", "browser_sessions", "pending_authorizations");
    /** Every table that holds data (for emptiness checks, counts and the export). */
    static final List<String> DATA_TABLES = List.of("clients", "users", "refresh_families", "consents", "api_keys", "note_counters", "notes",
            "upstream_tokens", "connections", "access_tokens", "authorization_codes", "idp_states", "browser_sessions", "pending_authorizations");

    private record Migration(int version, int compatibleFrom, String description, List<String> statements) {}

    private static final List<Migration> MIGRATIONS = List.of(new Migration(1, 1, "initial schema", v1()),
            new Migration(2, 1, "keys shared by every instance", List.of("CREATE TABLE server_keys (name text PRIMARY KEY, key bytea NOT NULL)")),
            // compatible from 1: a server of schema 1 or 2 does not know the table and leaves it alone
            new Migration(3, 1, "users' connections to third-party services", v3()),
            // compatible from 1: the triggers only announce changes; servers before 4 do not listen and are not affected
            new Migration(4, 1, "changes to clients and users announced to every instance", v4()));

    /**
     * A trigger on each cached table sends {@code '<schema> <table> <key>'} on {@link Changes#CHANNEL} when a row is
     * inserted, updated or deleted (the old key too when an update changes it), and {@code '<schema> <table>'} on TRUNCATE.
     * A key too long for a notification payload announces the whole table instead.
     */
    private static List<String> v4() {
        return List.of("""
                CREATE FUNCTION announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    prefix text := TG_TABLE_SCHEMA || ' ' || TG_TABLE_NAME;
                    k text;
                    old_k text;
                BEGIN
                    IF TG_OP = 'TRUNCATE' THEN
                        PERFORM pg_notify('%1$s', prefix);
                        RETURN NULL;
                    END IF;
                    IF TG_OP <> 'INSERT' THEN old_k := to_jsonb(OLD) ->> TG_ARGV[0]; END IF;
                    IF TG_OP <> 'DELETE' THEN k := to_jsonb(NEW) ->> TG_ARGV[0]; END IF;
                    IF octet_length(k) > 7000 OR octet_length(old_k) > 7000 THEN
                        PERFORM pg_notify('%1$s', prefix);
                        RETURN NULL;
                    END IF;
                    IF k IS NOT NULL THEN PERFORM pg_notify('%1$s', prefix || ' ' || k); END IF;
                    IF old_k IS NOT NULL AND old_k IS DISTINCT FROM k THEN PERFORM pg_notify('%1$s', prefix || ' ' || old_k); END IF;
                    RETURN NULL;
                END
                $$""".formatted(Changes.CHANNEL),
                "CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients FOR EACH ROW EXECUTE FUNCTION announce_change('client_id')",
                "CREATE TRIGGER clients_truncated AFTER TRUNCATE ON clients FOR EACH STATEMENT EXECUTE FUNCTION announce_change()",
                "CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION announce_change('user_id')",
                "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION announce_change()");
    }

    private static List<String> v3() {
        return List.of("""
                CREATE TABLE connections (
                    user_id            text NOT NULL,
                    name               text NOT NULL,
                    key_id             text,
                    access_ciphertext  text NOT NULL,
                    refresh_ciphertext text,
                    expires_at         timestamptz,
                    scopes             text[] NOT NULL,
                    account            text,
                    status             text NOT NULL,
                    created_at         timestamptz,
                    refreshed_at       timestamptz,
                    last_used_at       timestamptz,
                    refreshing_since   timestamptz,
                    refresh_owner      text,
                    revision           bigint NOT NULL,
                    PRIMARY KEY (user_id, name))""");
    }

    private Schema() {}

    private static List<String> v1() {
        List<String> s = new ArrayList<>();
        s.add("""
                CREATE TABLE schema_version (
                    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    version         integer NOT NULL,
                    compatible_from integer NOT NULL,
                    updated_at      timestamptz NOT NULL DEFAULT now(),
                    updated_by      text NOT NULL)""");
        s.add("""
                CREATE TABLE schema_migrations (
                    version     integer PRIMARY KEY,
                    description text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now(),
                    applied_by  text NOT NULL)""");
        // No foreign keys: the cascades are GrantLifecycle's, the same for every backend (and a grant's client may be
        // a Client ID Metadata Document URL that is never registered).
        s.add("""
                CREATE TABLE clients (
                    client_id                  text PRIMARY KEY,
                    client_name                text,
                    redirect_uris              text[] NOT NULL,
                    grant_types                text[] NOT NULL,
                    response_types             text[] NOT NULL,
                    token_endpoint_auth_method text,
                    scope                      text,
                    client_uri                 text,
                    software_id                text,
                    software_version           text,
                    created_at                 timestamptz,
                    last_used_at               timestamptz,
                    client_secret_hash         text,
                    registration_token_hash    text)""");
        s.add("CREATE INDEX clients_never_used ON clients (created_at NULLS FIRST, client_id) WHERE last_used_at IS NULL");
        s.add("""
                CREATE TABLE users (
                    user_id             text PRIMARY KEY,
                    username            text,
                    provider            text,
                    subject             text,
                    email               text,
                    email_verified      boolean,
                    name                text,
                    password_algorithm  text,
                    password_iterations integer,
                    password_salt       text,
                    password_hash       text,
                    created_at          timestamptz,
                    last_login_at       timestamptz)""");
        // A rotation changes no indexed column: with room left in each page it is a HOT update (no index writes).
        // expires_at is deliberately not indexed; the sweeper scans.
        s.add("""
                CREATE TABLE refresh_families (
                    family_id     text PRIMARY KEY,
                    client_id     text NOT NULL,
                    user_id       text NOT NULL,
                    scope         text,
                    resource      text,
                    token_hash    text,
                    previous_hash text,
                    retired       text[] NOT NULL,
                    created_at    timestamptz,
                    rotated_at    timestamptz,
                    expires_at    timestamptz NOT NULL,
                    rotations     bigint NOT NULL,
                    grace_used    boolean NOT NULL) WITH (fillfactor = 80)""");
        s.add("CREATE INDEX refresh_families_user ON refresh_families (user_id)");
        s.add("CREATE INDEX refresh_families_client ON refresh_families (client_id)");
        s.add("""
                CREATE TABLE consents (
                    user_id    text NOT NULL,
                    client_id  text NOT NULL,
                    scopes     text[] NOT NULL,
                    granted_at timestamptz,
                    PRIMARY KEY (user_id, client_id))""");
        s.add("CREATE INDEX consents_client ON consents (client_id)");
        s.add("""
                CREATE TABLE api_keys (
                    id           text PRIMARY KEY,
                    user_id      text NOT NULL,
                    name         text,
                    scopes       text[] NOT NULL,
                    hash         text NOT NULL,
                    created_at   timestamptz,
                    last_used_at timestamptz)""");
        s.add("CREATE INDEX api_keys_user ON api_keys (user_id)");
        // notes: one row per note, and a counter per user so that ids are never reused while the user has notes
        s.add("CREATE TABLE note_counters (user_id text PRIMARY KEY, last_id bigint NOT NULL)");
        s.add("""
                CREATE TABLE notes (
                    user_id    text NOT NULL,
                    note_id    bigint NOT NULL,
                    text       text NOT NULL,
                    created_at timestamptz,
                    PRIMARY KEY (user_id, note_id))""");
        s.add("""
                CREATE TABLE upstream_tokens (
                    user_id      text PRIMARY KEY,
                    provider     text,
                    key_id       text,
                    ciphertext   text NOT NULL,
                    scopes       text[] NOT NULL,
                    expires_at   timestamptz,
                    refreshable  boolean NOT NULL,
                    obtained_at  timestamptz,
                    refreshed_at timestamptz)""");
        s.add("CREATE SEQUENCE short_lived_seq");
        s.add("""
                CREATE TABLE access_tokens (
                    token_hash text PRIMARY KEY,
                    client_id  text,
                    user_id    text,
                    scopes     text[] NOT NULL,
                    resource   text,
                    grant_id   text,
                    expires_at timestamptz NOT NULL,
                    seq        bigint NOT NULL DEFAULT nextval('short_lived_seq'))""");
        s.add("CREATE INDEX access_tokens_grant ON access_tokens (grant_id, seq) WHERE grant_id IS NOT NULL");
        s.add("CREATE INDEX access_tokens_expires ON access_tokens (expires_at)");
        for (String t : SHORT_LIVED) {
            // value: the record as JSON; the other columns are what the store queries (expiry, owner caps, eviction order, cascades)
            s.add("CREATE TABLE " + t + """
                     (
                        key        text PRIMARY KEY,
                        value      text NOT NULL,
                        user_id    text,
                        client_id  text,
                        expires_at timestamptz NOT NULL,
                        evictable  boolean NOT NULL,
                        owner_a    text,
                        owner_b    text,
                        seq        bigint NOT NULL)""");
            s.add("CREATE INDEX " + t + "_expires ON " + t + " (expires_at)");
            s.add("CREATE INDEX " + t + "_user ON " + t + " (user_id) WHERE user_id IS NOT NULL");
            s.add("CREATE INDEX " + t + "_client ON " + t + " (client_id) WHERE client_id IS NOT NULL");
            s.add("CREATE INDEX " + t + "_owner_a ON " + t + " (owner_a, seq) WHERE owner_a IS NOT NULL");
            s.add("CREATE INDEX " + t + "_owner_b ON " + t + " (owner_b, seq) WHERE owner_b IS NOT NULL");
            s.add("CREATE INDEX " + t + "_evictable ON " + t + " (seq) WHERE evictable");
        }
        return s;
    }

    /** What a database had before and has now. */
    record Outcome(int before, int after, int compatibleFrom) {}

    /**
     * Creates the schema or brings it to {@link #VERSION}; refuses (StoreException refused, one clear line) a database
     * that only newer servers may use, and a schema that holds tables but is not ours.
     */
    static Outcome migrate(Connection c, String schema, String appliedBy) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Outcome o = migrateInTransaction(c, schema, appliedBy);
            c.commit();
            return o;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static Outcome migrateInTransaction(Connection c, String schema, String appliedBy) throws SQLException {
        exec(c, "SET LOCAL lock_timeout = '60s'"); // another instance may be migrating: wait for it
        exec(c, "SET LOCAL statement_timeout = '120s'");
        Sql.one(c, "SELECT pg_advisory_xact_lock(?, ?)", rs -> null, LOCK_SPACE, LOCK_MIGRATE);
        // only when missing: a user who owns an existing schema need not be allowed to create schemas
        if (Sql.count(c, "SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema) == 0) exec(c, "CREATE SCHEMA " + schema);
        exec(c, "SET LOCAL search_path TO " + schema);
        boolean fresh = Sql.one(c, "SELECT to_regclass(?) IS NULL", rs -> rs.getBoolean(1), schema + ".schema_version");
        int before = 0;
        int compatibleFrom = 0;
        if (fresh) {
            long tables = Sql.count(c, "SELECT count(*) FROM pg_tables WHERE schemaname = ?", schema);
            if (tables > 0) {
                throw StoreException.refused("The schema " + schema + " holds " + tables + " tables but no schema_version: it is not a "
                        + "mcp-oauth-server database. Use an empty schema (currentSchema=... in DATABASE_URL) or another database.");
            }
        } else {
            int[] v = Sql.one(c, "SELECT version, compatible_from FROM schema_version", rs -> new int[] {rs.getInt(1), rs.getInt(2)});
            if (v == null) throw StoreException.refused("The table " + schema + ".schema_version is empty; restore the database from a backup.");
            before = v[0];
            compatibleFrom = v[1];
            if (before > VERSION && compatibleFrom > VERSION) {
                throw StoreException.refused("The database has schema version " + before + " (usable from server schema " + compatibleFrom
                        + " on); this server knows up to " + VERSION + ". Run the newer version of mcp-oauth-server, or restore a backup taken "
                        + "before the upgrade.");
            }
            if (before > VERSION) {
                LOG.info("The database has schema version {}, newer than this server's {} but declared usable from {}: using it as it is",
                        before, VERSION, compatibleFrom);
                return new Outcome(before, before, compatibleFrom);
            }
        }
        int now = before;
        for (Migration m : MIGRATIONS) {
            if (m.version() <= before) continue;
            for (String sql : m.statements()) exec(c, sql);
            Sql.update(c, "INSERT INTO schema_migrations (version, description, applied_by) VALUES (?, ?, ?)", m.version(), m.description(), appliedBy);
            if (m.version() == 1) {
                Sql.update(c, "INSERT INTO schema_version (version, compatible_from, updated_by) VALUES (?, ?, ?)", 1, m.compatibleFrom(), appliedBy);
            } else {
                Sql.update(c, "UPDATE schema_version SET version = ?, compatible_from = ?, updated_at = now(), updated_by = ?", m.version(),
                        m.compatibleFrom(), appliedBy);
            }
            now = m.version();
            compatibleFrom = m.compatibleFrom();
            LOG.info("Applied schema migration {} ({}) to {}", m.version(), m.description(), schema);
        }
        return new Outcome(before, now, compatibleFrom);
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
