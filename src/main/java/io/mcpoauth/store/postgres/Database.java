package io.mcpoauth.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.mcpoauth.store.StoreException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool and the one way every store runs SQL: {@link #auto} (one autocommitted statement or a few),
 * {@link #tx} (one transaction, retried on a serialization failure or deadlock), {@link #snapshot} (one consistent
 * read-only view). Every wait is bounded: for a pooled connection {@link #POOL_WAIT_MS}, for a statement the
 * server's {@code statement_timeout}, for any read from the socket the driver's {@code socketTimeout}.
 *
 * <p>A failure is a {@link StoreException}: {@link StoreException#unavailable unavailable} (the caller answers 503
 * with Retry-After) when the database cannot be reached or is overloaded, shutting down, or too slow; refused
 * otherwise. A separate connection, outside the pool, checks every {@link #CHECK_SECONDS} seconds that the database
 * answers ({@link #problem}), so a pool busy with requests never makes the instance look unhealthy.
 */
final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** How long a request waits for a free pooled connection before it is answered 503. */
    static final long POOL_WAIT_MS = 2_000;
    static final int CHECK_SECONDS = 2;
    private static final int ATTEMPTS = 3;

    /** SQL that needs a connection. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    final DatabaseUrl url;
    private final HikariDataSource pool;
    private final ScheduledExecutorService checker;
    private Connection checkConnection; // only the checker thread touches it
    private volatile String problem;

    private Database(DatabaseUrl url, int poolSize) {
        this.url = url;
        HikariConfig cfg = new HikariConfig();
        cfg.setPoolName("store");
        cfg.setJdbcUrl(url.jdbcUrl());
        cfg.setDataSourceProperties(url.properties());
        cfg.setMaximumPoolSize(poolSize);
        cfg.setMinimumIdle(poolSize);
        cfg.setConnectionTimeout(POOL_WAIT_MS);
        cfg.setValidationTimeout(1_000);
        cfg.setKeepaliveTime(60_000);
        cfg.setMaxLifetime(15 * 60_000);
        cfg.setInitializationFailTimeout(-1); // the first connection is made (with a clear message) by open()
        cfg.setAutoCommit(true);
        this.pool = new HikariDataSource(cfg);
        this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "database-check");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the pool and connects once, so that a wrong address, user, password or database stops the start with one
     * clear line instead of failing requests later.
     */
    static Database open(DatabaseUrl url, int poolSize) {
        Database db = new Database(url, poolSize);
        try (Connection c = db.direct()) {
            c.isValid(2);
        } catch (SQLException e) {
            db.close();
            throw StoreException.refused("Cannot use the database " + url.redacted() + ": " + describe(e));
        }
        db.checker.scheduleWithFixedDelay(db::check, CHECK_SECONDS, CHECK_SECONDS, TimeUnit.SECONDS);
        return db;
    }

    /** A connection outside the pool (the health check, the sweeper's lock, migrations): the caller closes it. */
    Connection direct() throws SQLException {
        Properties p = new Properties();
        p.putAll(url.properties());
        return DriverManager.getConnection(url.jdbcUrl(), p);
    }

    /** Null while the database answers; otherwise what is wrong. */
    String problem() {
        return problem;
    }

    private void check() {
        try {
            if (checkConnection == null || !checkConnection.isValid(CHECK_SECONDS)) {
                closeQuietly(checkConnection);
                checkConnection = null;
                checkConnection = direct();
            }
            try (Statement s = checkConnection.createStatement()) {
                s.setQueryTimeout(CHECK_SECONDS);
                s.execute("SELECT 1");
            }
            if (problem != null) LOG.info("The database {} answers again", url.redacted());
            problem = null;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(checkConnection);
            checkConnection = null;
            String p = "the database " + url.redacted() + " is unreachable: " + describe(e);
            if (problem == null) LOG.warn("{}", p);
            problem = p;
        }
    }

    /** Runs {@code work} on a pooled connection in autocommit mode (each statement its own transaction). */
    <T> T auto(String what, Work<T> work) {
        try (Connection c = connection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Runs {@code work} in one READ COMMITTED transaction; retried (a few times) after a serialization failure or deadlock. */
    <T> T tx(String what, Work<T> work) {
        return tx(what, Connection.TRANSACTION_READ_COMMITTED, false, work);
    }

    /** Runs {@code work} in one REPEATABLE READ, read-only transaction: every statement sees the same snapshot. */
    <T> T snapshot(String what, Work<T> work) {
        return tx(what, Connection.TRANSACTION_REPEATABLE_READ, true, work);
    }

    private <T> T tx(String what, int isolation, boolean readOnly, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = connection()) {
                c.setAutoCommit(false);
                if (isolation != Connection.TRANSACTION_READ_COMMITTED) c.setTransactionIsolation(isolation);
                if (readOnly) c.setReadOnly(true);
                try {
                    T result = work.run(c);
                    c.commit();
                    return result;
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                }
            } catch (SQLException e) {
                if (attempt < ATTEMPTS && retryable(e)) continue;
                throw failure(what, e);
            }
        }
    }

    private Connection connection() throws SQLException {
        return pool.getConnection();
    }

    private static boolean retryable(SQLException e) {
        String state = e.getSQLState();
        return "40001".equals(state) || "40P01".equals(state);
    }

    /** The StoreException for a failed {@code what}; a connection-class failure also marks the database unhealthy at once. */
    StoreException failure(String what, SQLException e) {
        if (transientFailure(e)) {
            String p = "the database " + url.redacted() + " is unreachable: " + describe(e);
            if (problem == null) LOG.warn("{} ({})", p, what);
            if (connectionLost(e)) problem = p;
            return StoreException.unavailable("Cannot " + what + ": the database is unavailable (" + describe(e) + ")", e);
        }
        LOG.error("Cannot {}: {}", what, describe(e), e);
        return new StoreException("Cannot " + what + ": " + describe(e), e, false);
    }

    /** The database is unreachable, overloaded, shutting down or too slow: worth a 503 and a retry. */
    static boolean transientFailure(SQLException e) {
        if (e instanceof SQLTransientException) return true; // e.g. no pooled connection within POOL_WAIT_MS
        String s = e.getSQLState();
        if (s == null) return e.getCause() instanceof java.io.IOException;
        return s.startsWith("08") // connection exceptions
                || s.startsWith("53") // insufficient resources (too many connections, disk full, out of memory)
                || s.startsWith("57P") // admin shutdown, crash shutdown, cannot connect now (starting up)
                || s.equals("57014") // statement timeout (query canceled)
                || s.equals("55P03") // lock not available (lock_timeout)
                || s.equals("40001") || s.equals("40P01") // serialization failure, deadlock (after the retries)
                || s.equals("25P03") // idle in transaction session timeout
                || s.startsWith("HY"); // driver-side timeouts
    }

    private static boolean connectionLost(SQLException e) {
        String s = e.getSQLState();
        return e instanceof SQLTransientException || s == null || s.startsWith("08") || s.startsWith("57P");
    }

    /** One line: SQLState and message, without the driver's multi-line detail. */
    static String describe(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        if (e instanceof SQLException s && s.getSQLState() != null) return m + " [" + s.getSQLState() + "]";
        return m;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool drops it
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }

    /** Pool figures for the metrics: connections in use, idle, and requests waiting for one. */
    int[] poolState() {
        var mx = pool.getHikariPoolMXBean();
        return mx == null ? new int[] {0, 0, 0} : new int[] {mx.getActiveConnections(), mx.getIdleConnections(), mx.getThreadsAwaitingConnection()};
    }

    @Override
    public void close() {
        checker.shutdownNow();
        try {
            checker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(checkConnection);
        pool.close();
    }
}
