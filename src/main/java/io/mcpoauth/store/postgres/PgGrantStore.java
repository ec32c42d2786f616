package io.mcpoauth.store.postgres;

import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * Grants in {@code refresh_families}. {@link #replace} is one conditional UPDATE on the family id, the current and
 * previous token hashes, the rotation count and the grace flag: of instances racing on the same family, exactly one
 * statement matches (the others find the row changed once the winner commits, and read it again). Every change is
 * committed synchronously (durable before the answer).
 */
final class PgGrantStore implements GrantStore, AutoCloseable {
    private static final String COLUMNS = "family_id, client_id, user_id, scope, resource, token_hash, previous_hash, retired, created_at, "
            + "rotated_at, expires_at, rotations, grace_used";
    private static final String SELECT = "SELECT " + COLUMNS + " FROM refresh_families";

    /** The columns {@link #read} reads, of the table named {@code alias} in a query. */
    static String columns(String alias) {
        return java.util.Arrays.stream(COLUMNS.split(", ")).map(c -> alias + "." + c).collect(java.util.stream.Collectors.joining(", "));
    }

    /** Whether this store keeps its grants in {@code other}'s database. */
    boolean sameDatabase(Database other) {
        return db == other;
    }
    private static final String UPSERT = "INSERT INTO refresh_families (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (family_id) DO UPDATE SET client_id = excluded.client_id, user_id = excluded.user_id, scope = excluded.scope, "
            + "resource = excluded.resource, token_hash = excluded.token_hash, previous_hash = excluded.previous_hash, retired = excluded.retired, "
            + "created_at = excluded.created_at, rotated_at = excluded.rotated_at, expires_at = excluded.expires_at, "
            + "rotations = excluded.rotations, grace_used = excluded.grace_used";
    private static final String REPLACE = "UPDATE refresh_families SET token_hash = ?, previous_hash = ?, retired = ?, rotated_at = ?, "
            + "expires_at = ?, rotations = ?, grace_used = ?, scope = ?, resource = ?, client_id = ?, user_id = ?, created_at = ? "
            + "WHERE family_id = ? AND rotations = ? AND token_hash IS NOT DISTINCT FROM ? AND previous_hash IS NOT DISTINCT FROM ? AND grace_used = ?";

    private final Database db;
    /** Rotations from concurrent requests share a transaction and its commit. */
    private final GroupCommit<Replacement> rotations;

    /** Lookups of concurrent requests share a query. */
    private final GroupRead<RefreshFamily> reads;

    /**
     * The families this instance rotated last: the next refresh of such a family, when it brings the token issued here,
     * needs no read first (the conditional UPDATE checks that nothing changed since). About 760 bytes each, so at most about
     * 75 MB: what the file store spends on as many families.
     */
    static final int RECENT = 100_000;
    private final RecentRows<RefreshFamily> recent = new RecentRows<>(RECENT);

    private record Replacement(RefreshFamily expected, RefreshFamily next) {}

    /** The access tokens of the same database, written in the rotation's own statement when it issues one. */
    private final PgAccessTokenStore tokens;
    private final String replaceWithToken;
    /** Rotations that issue an access token, from concurrent requests, share a transaction and its commit. */
    private final GroupCommit<Object[]> rotationsWithTokens;

    PgGrantStore(Database db, PgAccessTokenStore tokens) {
        this.db = db;
        this.tokens = tokens;
        // one statement: the conditional UPDATE, and only if it matched, the grant's older access tokens beyond its
        // allowance deleted and the new one inserted; its count (1 or 0) is the UPDATE's
        this.replaceWithToken = "WITH rotated AS (" + REPLACE + " RETURNING family_id), "
                + "older AS (DELETE FROM access_tokens WHERE token_hash IN (SELECT token_hash FROM access_tokens WHERE grant_id = ? "
                + "ORDER BY seq DESC OFFSET " + (tokens.perGrant() - 1) + ") AND EXISTS (SELECT 1 FROM rotated)) "
                + PgAccessTokenStore.INSERT + " SELECT ?::text, ?::text, ?::text, ?::text[], ?::text, ?::text, ?::timestamptz FROM rotated "
                + PgAccessTokenStore.ON_CONFLICT;
        this.rotations = new GroupCommit<>(db, "rotate a refresh token", PgGrantStore::replaceAll);
        this.rotationsWithTokens = new GroupCommit<>(db, "rotate a refresh token", this::replaceAllWithTokens);
        this.reads = new GroupRead<>(db, "read a grant", GroupRead.THREADS, (c, keys) -> GroupRead.byKeys(c, keys,
                SELECT + " WHERE family_id = ANY(?)", PgGrantStore::read, RefreshFamily::familyId));
    }

    /** The conditional UPDATE of each replacement, in family-id order (the same lock order on every instance). */
    private static boolean[] replaceAll(java.sql.Connection c, List<Replacement> items) throws SQLException {
        Integer[] order = new Integer[items.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, java.util.Comparator.comparing(i -> items.get(i).expected().familyId()));
        boolean[] out = new boolean[items.size()];
        try (java.sql.PreparedStatement ps = c.prepareStatement(REPLACE)) {
            if (items.size() == 1) {
                Sql.bind(c, ps, params(items.get(0)));
                out[0] = ps.executeUpdate() == 1;
                return out;
            }
            for (Integer i : order) {
                Sql.bind(c, ps, params(items.get(i)));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int k = 0; k < order.length; k++) out[order[k]] = counts[k] == 1;
        }
        return out;
    }

    /** Each rotation's statement with its access token, in family-id order (the same lock order on every instance). */
    private boolean[] replaceAllWithTokens(Connection c, List<Object[]> items) throws SQLException {
        Integer[] order = new Integer[items.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, java.util.Comparator.comparing(i -> (String) items.get(i)[12]));
        boolean[] out = new boolean[items.size()];
        try (java.sql.PreparedStatement ps = c.prepareStatement(replaceWithToken)) {
            if (items.size() == 1) {
                Sql.bind(c, ps, items.get(0));
                out[0] = ps.executeUpdate() == 1;
                return out;
            }
            for (Integer i : order) {
                Sql.bind(c, ps, items.get(i));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int k = 0; k < order.length; k++) out[order[k]] = counts[k] == 1;
        }
        return out;
    }

    private static Object[] params(Replacement r) {
        RefreshFamily next = r.next();
        RefreshFamily expected = r.expected();
        return new Object[] {next.tokenHash(), next.previousHash(), next.retired(), next.rotatedAt(), next.expiresAt(), next.rotations(),
                next.graceUsed(), next.scope(), next.resource(), next.clientId(), next.userId(), next.createdAt(), expected.familyId(),
                expected.rotations(), expected.tokenHash(), expected.previousHash(), expected.graceUsed()};
    }

    @Override
    public void close() {
        rotations.close();
        rotationsWithTokens.close();
        reads.close();
    }

    static Object[] values(RefreshFamily f) {
        return new Object[] {f.familyId(), f.clientId(), f.userId(), f.scope(), f.resource(), f.tokenHash(), f.previousHash(), f.retired(),
                f.createdAt(), f.rotatedAt(), f.expiresAt(), f.rotations(), f.graceUsed()};
    }

    static RefreshFamily read(ResultSet rs) throws SQLException {
        return new RefreshFamily(rs.getString("family_id"), rs.getString("client_id"), rs.getString("user_id"), rs.getString("scope"),
                rs.getString("resource"), rs.getString("token_hash"), rs.getString("previous_hash"), Sql.strings(rs, "retired"),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "rotated_at"), Sql.instant(rs, "expires_at"), rs.getLong("rotations"),
                rs.getBoolean("grace_used"));
    }

    static final String UPSERT_SQL = UPSERT;

    @Override
    public void create(RefreshFamily family) {
        db.auto("store a grant", c -> Sql.update(c, UPSERT, values(family)));
        recent.put(family.familyId(), family);
    }

    @Override
    public RefreshFamily recent(String familyId) {
        return familyId == null ? null : recent.get(familyId);
    }

    @Override
    public RefreshFamily get(String familyId) {
        if (familyId == null) return null;
        return reads.get(familyId);
    }

    @Override
    public boolean replace(RefreshFamily expected, RefreshFamily next) {
        if (!expected.familyId().equals(next.familyId())) throw new IllegalArgumentException("a family keeps its id");
        return remembered(next, rotations.write(new Replacement(expected, next)));
    }

    @Override
    public Replaced replace(RefreshFamily expected, RefreshFamily next, AccessTokenStore store, String tokenHash, AccessToken token, Instant now) {
        if (store != tokens) return GrantStore.super.replace(expected, next, store, tokenHash, token, now);
        if (!expected.familyId().equals(next.familyId())) throw new IllegalArgumentException("a family keeps its id");
        Object[] rotation = params(new Replacement(expected, next));
        Object[] put = tokens.putParams(tokenHash, token);
        Object[] all = new Object[rotation.length + put.length];
        System.arraycopy(rotation, 0, all, 0, rotation.length);
        System.arraycopy(put, 0, all, rotation.length, put.length);
        return remembered(next, rotationsWithTokens.write(all)) ? Replaced.WITH_TOKEN : Replaced.CHANGED;
    }

    /** Remembers {@code next} when it was written, forgets the family otherwise. */
    private boolean remembered(RefreshFamily next, boolean replaced) {
        if (replaced) recent.put(next.familyId(), next);
        else recent.forget(next.familyId());
        return replaced;
    }

    @Override
    public boolean remove(String familyId) {
        if (familyId == null) return false;
        recent.forget(familyId);
        return db.auto("remove a grant", c -> Sql.update(c, "DELETE FROM refresh_families WHERE family_id = ?", familyId) == 1);
    }

    @Override
    public List<RefreshFamily> removeByUser(String userId) {
        return forgotten(db.auto("remove a user's grants", c -> Sql.list(c, "DELETE FROM refresh_families WHERE user_id = ? RETURNING " + COLUMNS,
                PgGrantStore::read, userId)));
    }

    @Override
    public List<RefreshFamily> removeByClient(String clientId) {
        return forgotten(db.auto("remove a client's grants", c -> Sql.list(c, "DELETE FROM refresh_families WHERE client_id = ? RETURNING " + COLUMNS,
                PgGrantStore::read, clientId)));
    }

    @Override
    public List<RefreshFamily> removeByUserAndClient(String userId, String clientId) {
        return forgotten(db.auto("remove grants", c -> Sql.list(c, "DELETE FROM refresh_families WHERE user_id = ? AND client_id = ? RETURNING " + COLUMNS,
                PgGrantStore::read, userId, clientId)));
    }

    /** Rows a rotation holds are skipped (SKIP LOCKED) and a row rotated meanwhile is judged on its new expiry. */
    @Override
    public List<RefreshFamily> removeExpired(Instant now, int limit) {
        return forgotten(db.auto("sweep expired grants", c -> Sql.list(c, "DELETE FROM refresh_families WHERE family_id IN (SELECT family_id FROM "
                + "refresh_families WHERE expires_at <= ? LIMIT ? FOR UPDATE SKIP LOCKED) AND expires_at <= ? RETURNING " + COLUMNS,
                PgGrantStore::read, now, limit, now)));
    }

    private List<RefreshFamily> forgotten(List<RefreshFamily> removed) {
        for (RefreshFamily f : removed) recent.forget(f.familyId());
        return removed;
    }

    @Override
    public int countExpired(Instant now) {
        return db.auto("count expired grants", c -> (int) Sql.count(c, "SELECT count(*) FROM refresh_families WHERE expires_at <= ?", now));
    }

    @Override
    public List<RefreshFamily> listByUser(String userId) {
        return db.auto("list a user's grants", c -> Sql.list(c, SELECT + " WHERE user_id = ? ORDER BY family_id COLLATE \"C\"", PgGrantStore::read, userId));
    }

    @Override
    public List<RefreshFamily> list() {
        return db.auto("list grants", PgGrantStore::all);
    }

    /** Every record, sorted by key. */
    static List<RefreshFamily> all(Connection c) throws SQLException {
        return Sql.list(c, SELECT + " ORDER BY family_id COLLATE \"C\"", PgGrantStore::read);
    }

    @Override
    public java.util.Set<String> clientIds() {
        List<String> ids = db.auto("list the clients of grants", c -> Sql.list(c, "SELECT DISTINCT client_id FROM refresh_families",
                rs -> rs.getString(1)));
        return new java.util.TreeSet<>(ids);
    }

    @Override
    public int count() {
        return db.auto("count grants", c -> (int) Sql.count(c, "SELECT count(*) FROM refresh_families"));
    }
}
