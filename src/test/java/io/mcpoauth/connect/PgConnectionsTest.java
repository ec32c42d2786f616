package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.TestClock;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Connections with STORE=postgres (PG_TEST_URL): kept in the database across restarts; another instance's live refresh is waited for. */
class PgConnectionsTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @TempDir
    Path dir;

    @Test
    void connectionsLiveInTheDatabaseAndAnotherInstancesRefreshIsNotDuplicated() {
        TestClock clock = new TestClock();
        ConnectFixture fx = new ConnectFixture(dir, null);
        fx.env.put("STORE", "postgres");
        fx.env.put("DATABASE_URL", PG.newSchema());
        fx.env.put("DATABASE_POOL_SIZE", "3");
        fx.env.put("ENCRYPTION_KEY", java.util.Base64.getEncoder().encodeToString(io.mcpoauth.core.Secrets.randomBytes(32)));
        fx.env.put("UPSTREAM_TIMEOUT", "30"); // another instance's refresh counts as live for 95 s
        try (ConnectFixture f = fx.start(clock)) {
            f.idp.expiresIn = 120;
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ConnectionsTest.ALICE_AT_SVC);
            f.restart(clock);
            Connections c = f.s.server.connections;
            String current = c.token(alice.id(), "svc").accessToken();
            assertNotNull(current, "kept in the database across a restart");

            // another instance is refreshing right now: this one does not send the refresh token too
            ConnectionStore store = f.s.server.stores.connections();
            ConnectionRecord r = store.get(alice.id(), "svc");
            assertTrue(store.replace(r, r.marked(clock.instant(), "another-instance")));
            int calls = f.idp.refreshCalls.get();
            clock.advance(Duration.ofSeconds(70)); // 50 s left: due for a refresh, still valid
            assertEquals(current, c.token(alice.id(), "svc").accessToken(), "the still valid token, no second refresh");
            assertEquals(calls, f.idp.refreshCalls.get());
            clock.advance(Duration.ofSeconds(40)); // that refresh never finished
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> c.token(alice.id(), "svc"));
            assertTrue(n.reconnect(), "a refresh another instance never finished may have spent the token: reconnect");
            assertEquals(calls, f.idp.refreshCalls.get());
        }
    }
}
