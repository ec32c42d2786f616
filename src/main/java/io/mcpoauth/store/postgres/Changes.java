package io.mcpoauth.store.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hears which rows of the cached tables changed, on any instance: the tables' triggers (schema migration 4) send
 * {@code NOTIFY mcp_oauth_changes, '<schema> <table> <key>'} (no key: the whole table) when the change commits, and this thread, on a connection
 * of its own that LISTENs, tells that table's {@link RecordCache} to forget the key. Notifications reach every
 * listening session of the database, so a payload names its schema and other schemas' are ignored.
 *
 * <p>The caches serve only while this connection is up and has been checked within {@link #CHECK_MS} ({@link #live}):
 * a notification sent while it is down is lost, so on every (re)connection the caches start empty. A connection that
 * went silent is caught by the periodic check; until then a change made elsewhere can go unheard for at most that long.
 */
final class Changes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Changes.class);
    static final String CHANNEL = "mcp_oauth_changes";
    /** How often the connection is checked with a query (and the longest a silent connection goes unnoticed, plus its timeout). */
    static final long CHECK_MS = 2_000;
    private static final long RETRY_MS = 1_000;

    private final Database db;
    private final String schema;
    private final Map<String, RecordCache<?>> caches = new java.util.concurrent.ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile long liveUntil; // System.nanoTime() up to which the caches may serve; 0 while down
    private volatile Connection connection;

    Changes(Database db, String schema) {
        this.db = db;
        this.schema = schema;
        this.thread = new Thread(this::run, "database-changes");
        thread.setDaemon(true);
    }

    /** A cache of {@code table}'s records (at most {@code max}), kept while its changes are heard. */
    <V> RecordCache<V> cache(String table, int max) {
        RecordCache<V> c = new RecordCache<>(max, this::live);
        caches.put(table, c);
        return c;
    }

    Changes start() {
        thread.start();
        return this;
    }

    /** The listening session's server process (null while down): for tests that cut it. */
    Integer backendPid() {
        Connection c = connection;
        try {
            return c == null ? null : c.unwrap(PGConnection.class).getBackendPID();
        } catch (SQLException e) {
            return null;
        }
    }

    /** Whether the caches may serve: changes are being heard. */
    boolean live() {
        long until = liveUntil;
        return until != 0 && System.nanoTime() - until < 0;
    }

    private void run() {
        boolean reported = false;
        while (!closed) {
            try (Connection c = db.direct()) {
                connection = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                forgetAll(); // whatever changed while nobody listened
                if (reported) LOG.info("Hearing the database's changes again: cached clients and users are used again");
                reported = false;
                long checked = System.nanoTime();
                stillLive();
                while (!closed) {
                    PGNotification[] ns = pg.getNotifications((int) (CHECK_MS / 2));
                    if (ns != null) {
                        for (PGNotification n : ns) heard(n.getParameter());
                    }
                    if (System.nanoTime() - checked >= TimeUnit.MILLISECONDS.toNanos(CHECK_MS / 2)) {
                        try (Statement s = c.createStatement()) {
                            s.setQueryTimeout((int) Math.max(1, CHECK_MS / 1000));
                            s.execute("SELECT 1");
                        }
                        checked = System.nanoTime();
                    }
                    stillLive();
                }
            } catch (SQLException | RuntimeException e) {
                liveUntil = 0;
                forgetAll();
                if (closed) break;
                if (!reported) {
                    LOG.warn("Not hearing the database's changes ({}): clients and users are read from the database each time until it is back",
                            Database.describe(e instanceof SQLException s ? s : new SQLException(e)));
                }
                reported = true;
                try {
                    Thread.sleep(RETRY_MS);
                } catch (InterruptedException ie) {
                    break;
                }
            } finally {
                connection = null;
            }
        }
        liveUntil = 0;
        forgetAll();
    }

    private void stillLive() {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHECK_MS);
        liveUntil = until == 0 ? 1 : until;
    }

    /** {@code '<schema> <table> <key>'}, or {@code '<schema> <table>'} when any row of the table may have changed. */
    void heard(String payload) {
        if (payload == null) return;
        int a = payload.indexOf(' ');
        if (a != schema.length() || !payload.startsWith(schema)) return;
        int b = payload.indexOf(' ', a + 1);
        RecordCache<?> cache = caches.get(b < 0 ? payload.substring(a + 1) : payload.substring(a + 1, b));
        if (cache == null) return;
        if (b < 0) cache.forgetAll();
        else cache.forget(payload.substring(b + 1));
    }

    private void forgetAll() {
        for (RecordCache<?> c : caches.values()) c.forgetAll();
    }

    @Override
    public void close() {
        closed = true;
        liveUntil = 0;
        thread.interrupt();
        Connection c = connection;
        if (c != null) {
            try {
                c.close(); // unblocks a wait for notifications
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        forgetAll();
    }
}
