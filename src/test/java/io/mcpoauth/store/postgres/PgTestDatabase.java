package io.mcpoauth.store.postgres;

import io.mcpoauth.store.Stores;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The PostgreSQL the tests use: {@code PG_TEST_URL} (set by {@code ./run.sh test}, which finds or starts one with
 * {@code .ci/test-postgres.sh}). Without it a test fails with the reason; it is never skipped. Each call of
 * {@link #newSchema} makes a schema of its own ({@code t_<random>}); all of them are dropped after the test class
 * (register it as an extension: {@code @RegisterExtension static final PgTestDatabase PG = new PgTestDatabase();}).
 */
public final class PgTestDatabase implements AfterAllCallback {
    public static final int POOL_SIZE = 4;
    private final List<String> schemas = new ArrayList<>();
    private final Map<Path, String> byDir = new HashMap<>();

    /** PG_TEST_URL, or an AssertionError saying how to get one. */
    public static String baseUrl() {
        String url = System.getenv("PG_TEST_URL");
        if (url == null || url.isBlank()) url = System.getProperty("pg.test.url");
        if (url == null || url.isBlank()) {
            throw new AssertionError("PG_TEST_URL is not set: the PostgreSQL tests need a database. `./run.sh test` finds one on "
                    + "127.0.0.1:5432 or starts a throwaway cluster (.ci/test-postgres.sh); to run tests with mvn directly: "
                    + "eval \"$(bash .ci/test-postgres.sh)\" first, or set PG_TEST_URL=postgresql://postgres@127.0.0.1:5432/test");
        }
        return url;
    }

    /** A new empty schema; returns the DATABASE_URL that puts the tables there. */
    public synchronized String newSchema() {
        String base = baseUrl();
        String name = "t_" + Long.toHexString(Double.doubleToLongBits(Math.random()) ^ System.nanoTime()).replace('-', '0');
        schemas.add(name);
        return withSchema(base, name);
    }

    static String withSchema(String url, String schema) {
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    /** The schema for {@code dir} (made on first use): the contract suites reopen the same one for a "restart". */
    public synchronized String urlFor(Path dir) {
        return byDir.computeIfAbsent(dir, d -> newSchema());
    }

    /** PgStores on {@code dir}'s schema, with a small pool (the server is shared). */
    public Stores open(Path dir, int maxBrowserSessions) {
        return PgStores.open(urlFor(dir), null, POOL_SIZE, maxBrowserSessions);
    }

    /** SQL as the test user, on the base database (for checks a store does not offer). */
    public static void exec(String url, String sql) {
        DatabaseUrl u = DatabaseUrl.parse(url, null);
        try (Connection c = java.sql.DriverManager.getConnection(u.jdbcUrl(), u.properties()); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** A connection to {@code url} (its schema first on the search path); the caller closes it. */
    public static Connection connect(String url) throws SQLException {
        DatabaseUrl u = DatabaseUrl.parse(url, null);
        return java.sql.DriverManager.getConnection(u.jdbcUrl(), u.properties());
    }

    public synchronized void dropAll() {
        for (String s : schemas) {
            try {
                exec(baseUrl(), "DROP SCHEMA IF EXISTS " + s + " CASCADE");
            } catch (RuntimeException e) {
                System.err.println("could not drop test schema " + s + ": " + e.getMessage());
            }
        }
        schemas.clear();
        byDir.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        dropAll();
    }
}
