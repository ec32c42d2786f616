package io.mcpoauth.store.postgres;

import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashSet;

/**
 * Access tokens in {@code access_tokens}, under the SHA-256 of the token, where every instance sees them. Each grant
 * keeps its newest {@code perGrant} (one statement deletes the older ones and inserts the new one). Inserts are
 * committed asynchronously, like the other short-lived records: a database crash may lose the newest few, whose
 * clients then refresh, as after a restart of a single server.
 */
final class PgAccessTokenStore implements AccessTokenStore, AutoCloseable {
    private static final int SWEEP_BATCH = 10_000;
    static final String INSERT = "INSERT INTO access_tokens (token_hash, client_id, user_id, scopes, resource, grant_id, expires_at)";
    static final String ON_CONFLICT = "ON CONFLICT (token_hash) DO UPDATE SET client_id = excluded.client_id, user_id = excluded.user_id, "
            + "scopes = excluded.scopes, resource = excluded.resource, grant_id = excluded.grant_id, expires_at = excluded.expires_at, "
            + "seq = nextval('short_lived_seq')";
    private final Database db;
    private final int perGrant;
    private final String put;
    /** Tokens issued by concurrent requests share a transaction (one round trip). */
    private final GroupCommit<Object[]> puts;
    /** Lookups of concurrent requests (every /mcp call reads its token) share a query. */
    private final GroupRead<Object[]> reads;
    /** The same, with the token's grant joined: one round trip for both. */
    private final GroupRead<WithGrant> readsWithGrant;

    PgAccessTokenStore(Database db, int perGrant) {
        if (perGrant < 1) throw new IllegalArgumentException("perGrant must be at least 1");
        this.db = db;
        this.perGrant = perGrant;
        this.put = "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)), "
                + "older AS (DELETE FROM access_tokens WHERE token_hash IN (SELECT token_hash FROM access_tokens WHERE grant_id = ? "
                + "ORDER BY seq DESC OFFSET " + (perGrant - 1) + ")) "
                + INSERT + " SELECT ?::text, ?::text, ?::text, ?::text[], ?::text, ?::text, ?::timestamptz FROM async " + ON_CONFLICT;
        this.puts = new GroupCommit<>(db, "store an access token", this::putAll);
        this.reads = new GroupRead<>(db, "read an access token", GroupRead.THREADS, (c, keys) -> GroupRead.byKeys(c, keys,
                "SELECT token_hash, client_id, user_id, scopes, resource, grant_id, expires_at FROM access_tokens WHERE token_hash = ANY(?)",
                rs -> new Object[] {rs.getString("token_hash"), read(rs)}, r -> (String) r[0]));
        this.readsWithGrant = new GroupRead<>(db, "read an access token", GroupRead.THREADS, (c, keys) -> {
            java.util.Map<String, WithGrant> out = new java.util.HashMap<>();
            for (Object[] r : Sql.list(c, "SELECT a.token_hash AS a_token_hash, a.client_id AS a_client_id, a.user_id AS a_user_id, "
                    + "a.scopes AS a_scopes, a.resource AS a_resource, a.grant_id AS a_grant_id, a.expires_at AS a_expires_at, "
                    + PgGrantStore.columns("f") + " FROM access_tokens a LEFT JOIN refresh_families f ON f.family_id = a.grant_id "
                    + "WHERE a.token_hash = ANY(?)", rs -> new Object[] {rs.getString("a_token_hash"), new WithGrant(new AccessToken(
                            rs.getString("a_client_id"), rs.getString("a_user_id"), new LinkedHashSet<>(Sql.strings(rs, "a_scopes")),
                            rs.getString("a_resource"), rs.getString("a_grant_id"), Sql.instant(rs, "a_expires_at")),
                            rs.getString("family_id") == null ? null : PgGrantStore.read(rs))}, keys)) {
                out.put((String) r[0], (WithGrant) r[1]);
            }
            return out;
        });
    }

    @Override
    public WithGrant getWithGrant(String tokenHash, Instant now, io.mcpoauth.store.GrantStore grants) {
        if (!(grants instanceof PgGrantStore pg) || !pg.sameDatabase(db)) return AccessTokenStore.super.getWithGrant(tokenHash, now, grants);
        if (tokenHash == null) return null;
        WithGrant found = readsWithGrant.get(tokenHash);
        return found == null || !found.token().expiresAt().isAfter(now) ? null : found;
    }

    private boolean[] putAll(java.sql.Connection c, java.util.List<Object[]> items) throws SQLException {
        boolean[] out = new boolean[items.size()];
        try (java.sql.PreparedStatement ps = c.prepareStatement(put)) {
            if (items.size() == 1) {
                Sql.bind(c, ps, items.get(0));
                ps.executeUpdate();
            } else {
                // by grant, then token hash: the older tokens each statement deletes are locked in one order everywhere
                java.util.List<Object[]> sorted = new java.util.ArrayList<>(items);
                sorted.sort(java.util.Comparator.comparing((Object[] p) -> p[0] == null ? "" : (String) p[0]).thenComparing(p -> (String) p[1]));
                for (Object[] p : sorted) {
                    Sql.bind(c, ps, p);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        java.util.Arrays.fill(out, true);
        return out;
    }

    @Override
    public void close() {
        puts.close();
        reads.close();
        readsWithGrant.close();
    }

    private static AccessToken read(ResultSet rs) throws SQLException {
        return new AccessToken(rs.getString("client_id"), rs.getString("user_id"), new LinkedHashSet<>(Sql.strings(rs, "scopes")),
                rs.getString("resource"), rs.getString("grant_id"), Sql.instant(rs, "expires_at"));
    }

    @Override
    public boolean put(String tokenHash, AccessToken token, Instant now) {
        return puts.write(putParams(tokenHash, token));
    }

    /** The parameters of {@link #put}'s statement: the grant (whose older tokens go), then the new row. */
    static Object[] putParams(String tokenHash, AccessToken token) {
        return new Object[] {token.grantId(), tokenHash, token.clientId(), token.userId(), token.scopes().stream().sorted().toList(),
                token.resource(), token.grantId(), token.expiresAt()};
    }

    @Override
    public AccessToken get(String tokenHash, Instant now) {
        if (tokenHash == null) return null;
        Object[] r = reads.get(tokenHash);
        AccessToken t = r == null ? null : (AccessToken) r[1];
        return t == null || !t.expiresAt().isAfter(now) ? null : t;
    }

    @Override
    public boolean remove(String tokenHash) {
        if (tokenHash == null) return false;
        return db.auto("revoke an access token", c -> Sql.update(c, "DELETE FROM access_tokens WHERE token_hash = ?", tokenHash) == 1);
    }

    @Override
    public int removeByGrant(String grantId) {
        if (grantId == null) return 0;
        return db.auto("revoke a grant's access tokens", c -> Sql.update(c, "DELETE FROM access_tokens WHERE grant_id = ?", grantId));
    }

    @Override
    public int sweep(Instant now) {
        int total = 0;
        while (true) {
            int n = db.auto("sweep access tokens", c -> Sql.update(c, "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
                    + "DELETE FROM access_tokens WHERE ctid IN (SELECT ctid FROM access_tokens, async WHERE expires_at <= ? LIMIT ?)", now, SWEEP_BATCH));
            total += n;
            if (n < SWEEP_BATCH) return total;
        }
    }

    @Override
    public int count() {
        return db.auto("count access tokens", c -> (int) Sql.count(c, "SELECT count(*) FROM access_tokens"));
    }

    int perGrant() {
        return perGrant;
    }
}
