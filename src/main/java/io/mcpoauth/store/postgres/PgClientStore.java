package io.mcpoauth.store.postgres;

import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/** Registered clients in {@code clients}. Adds are serialized (an advisory lock) so that MAX_CLIENTS holds across instances. */
final class PgClientStore implements ClientStore {
    static final String COLUMNS = "client_id, client_name, redirect_uris, grant_types, response_types, token_endpoint_auth_method, scope, "
            + "client_uri, software_id, software_version, created_at, last_used_at, client_secret_hash, registration_token_hash";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM clients";
    static final String UPSERT = "INSERT INTO clients (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (client_id) DO UPDATE SET client_name = excluded.client_name, redirect_uris = excluded.redirect_uris, "
            + "grant_types = excluded.grant_types, response_types = excluded.response_types, "
            + "token_endpoint_auth_method = excluded.token_endpoint_auth_method, scope = excluded.scope, client_uri = excluded.client_uri, "
            + "software_id = excluded.software_id, software_version = excluded.software_version, created_at = excluded.created_at, "
            + "last_used_at = excluded.last_used_at, client_secret_hash = excluded.client_secret_hash, "
            + "registration_token_hash = excluded.registration_token_hash";

    private final Database db;
    /** Lookups of concurrent requests (every token request reads its client) share a query. */
    private final GroupRead<ClientRecord> reads;
    /** Clients as read, while every instance's changes are heard ({@link Changes}). */
    final RecordCache<ClientRecord> cache;

    PgClientStore(Database db, RecordCache<ClientRecord> cache) {
        this.db = db;
        this.cache = cache;
        this.reads = new GroupRead<>(db, "read a client", GroupRead.THREADS, (c, keys) -> GroupRead.byKeys(c, keys,
                SELECT + " WHERE client_id = ANY(?)", PgClientStore::read, ClientRecord::clientId));
    }

    void close() {
        reads.close();
    }

    static Object[] values(ClientRecord c) {
        return new Object[] {c.clientId(), c.clientName(), c.redirectUris(), c.grantTypes(), c.responseTypes(), c.tokenEndpointAuthMethod(),
                c.scope(), c.clientUri(), c.softwareId(), c.softwareVersion(), c.createdAt(), c.lastUsedAt(), c.clientSecretHash(),
                c.registrationTokenHash()};
    }

    static ClientRecord read(ResultSet rs) throws SQLException {
        return new ClientRecord(rs.getString("client_id"), rs.getString("client_name"), Sql.strings(rs, "redirect_uris"),
                Sql.strings(rs, "grant_types"), Sql.strings(rs, "response_types"), rs.getString("token_endpoint_auth_method"),
                rs.getString("scope"), rs.getString("client_uri"), rs.getString("software_id"), rs.getString("software_version"),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "last_used_at"), rs.getString("client_secret_hash"),
                rs.getString("registration_token_hash"));
    }

    @Override
    public ClientRecord get(String clientId) {
        if (clientId == null) return null;
        return cache.get(clientId, reads::get);
    }

    @Override
    public List<ClientRecord> list() {
        return db.auto("list clients", PgClientStore::all);
    }

    /** Every record, sorted by key. */
    static List<ClientRecord> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY client_id COLLATE \"C\"", PgClientStore::read);
    }

    @Override
    public int count() {
        return db.auto("count clients", c -> (int) Sql.count(c, "SELECT count(*) FROM clients"));
    }

    @Override
    public Added add(ClientRecord client, int max) {
        Added added;
        try {
            added = addLocked(client, max);
        } finally {
            cache.forget(client.clientId());
        }
        if (added.evicted() != null) cache.forget(added.evicted());
        return added;
    }

    private Added addLocked(ClientRecord client, int max) {
        return db.tx("register a client", c -> {
            Sql.one(c, "SELECT pg_advisory_xact_lock(?, ?)", rs -> null, Schema.LOCK_SPACE, Schema.LOCK_CLIENTS);
            boolean exists = Sql.count(c, "SELECT count(*) FROM clients WHERE client_id = ?", client.clientId()) > 0;
            if (exists || Sql.count(c, "SELECT count(*) FROM clients") < max) {
                Sql.update(c, UPSERT, values(client));
                return new Added(true, null);
            }
            String oldest = Sql.one(c, "SELECT client_id FROM clients WHERE last_used_at IS NULL ORDER BY created_at NULLS FIRST, "
                    + "client_id COLLATE \"C\" LIMIT 1 FOR UPDATE", rs -> rs.getString(1));
            if (oldest == null) return Added.FULL;
            Sql.update(c, "DELETE FROM clients WHERE client_id = ?", oldest);
            Sql.update(c, UPSERT, values(client));
            return new Added(true, oldest);
        });
    }

    @Override
    public boolean replace(ClientRecord client) {
        try {
            return replaceRow(client);
        } finally {
            cache.forget(client.clientId());
        }
    }

    private boolean replaceRow(ClientRecord client) {
        return db.auto("change a client", c -> Sql.update(c, "UPDATE clients SET client_name = ?, redirect_uris = ?, grant_types = ?, "
                + "response_types = ?, token_endpoint_auth_method = ?, scope = ?, client_uri = ?, software_id = ?, software_version = ?, "
                + "created_at = ?, last_used_at = ?, client_secret_hash = ?, registration_token_hash = ? WHERE client_id = ?",
                client.clientName(), client.redirectUris(), client.grantTypes(), client.responseTypes(), client.tokenEndpointAuthMethod(),
                client.scope(), client.clientUri(), client.softwareId(), client.softwareVersion(), client.createdAt(), client.lastUsedAt(),
                client.clientSecretHash(), client.registrationTokenHash(), client.clientId()) == 1);
    }

    @Override
    public boolean remove(String clientId) {
        if (clientId == null) return false;
        try {
            return db.auto("remove a client", c -> Sql.update(c, "DELETE FROM clients WHERE client_id = ?", clientId) == 1);
        } finally {
            cache.forget(clientId);
        }
    }

    @Override
    public void markUsed(String clientId, Instant at) {
        try {
            db.auto("record a client's use", c -> Sql.update(c, "UPDATE clients SET last_used_at = ? WHERE client_id = ?", at, clientId));
        } finally {
            cache.forget(clientId);
        }
    }

    @Override
    public List<String> removeUnusedCreatedBefore(Instant cutoff) {
        List<String> removed = db.auto("remove unused clients", c -> Sql.list(c, "DELETE FROM clients WHERE last_used_at IS NULL AND created_at < ? "
                + "RETURNING client_id", rs -> rs.getString(1), cutoff)).stream().sorted().toList();
        removed.forEach(cache::forget);
        return removed;
    }
}
