package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.UserRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances on one database, each keeping the clients and users it read: a change made on one (or by hand in the
 * database) reaches the other's cache, and an instance that stops hearing changes stops serving what it kept.
 */
class PgChangesTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration BOUND = Duration.ofSeconds(10);

    private static UserRecord user(String name, String displayName) {
        return new UserRecord(UserRecord.localId(name), name, "local", name, null, null, displayName, null, T0, null);
    }

    private static ClientRecord client(String id, String name) {
        return new ClientRecord(id, name, List.of("http://127.0.0.1/cb"), List.of("authorization_code", "refresh_token"), List.of("code"), "none",
                "mcp", null, null, null, T0, null, null, null);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + BOUND + ": " + what);
            LockSupport.parkNanos(5_000_000);
        }
    }

    private static int cached(PgStores s) {
        return ((PgUserStore) s.users()).cache.size() + ((PgClientStore) s.clients()).cache.size();
    }

    @Test
    void aChangeOnOneInstanceReachesWhatTheOtherKept() {
        String url = PG.newSchema();
        try (PgStores a = PgStores.open(url, null, 2, 100); PgStores b = PgStores.open(url, null, 2, 100)) {
            await("b hears changes", b.changes::live);
            UserRecord alice = user("alice", "Alice");
            assertTrue(a.users().add(alice));
            a.clients().add(client("c1", "First"), 100);
            // (the announcements of a's inserts may still arrive and make b read once more)
            await("b keeps what it read", () -> "Alice".equals(b.users().get(alice.userId()).name())
                    && "First".equals(b.clients().get("c1").clientName()) && cached(b) == 2);

            a.users().put(user("alice", "Alice Liddell"));
            a.clients().replace(client("c1", "Renamed"));
            await("b reads alice's new name", () -> "Alice Liddell".equals(b.users().get(alice.userId()).name()));
            await("b reads the client's new name", () -> "Renamed".equals(b.clients().get("c1").clientName()));

            a.users().remove(alice.userId());
            a.clients().remove("c1");
            await("alice is gone on b", () -> b.users().get(alice.userId()) == null);
            await("the client is gone on b", () -> b.clients().get("c1") == null);
        }
    }

    @Test
    void changesMadeInTheDatabaseByHandAreHeardToo() {
        String url = PG.newSchema();
        try (PgStores a = PgStores.open(url, null, 2, 100)) {
            await("a hears changes", a.changes::live);
            a.users().add(user("bob", "Bob"));
            a.users().add(user("carol", "Carol"));
            assertEquals("Bob", a.users().get(UserRecord.localId("bob")).name());
            assertEquals("Carol", a.users().get(UserRecord.localId("carol")).name());
            PgTestDatabase.exec(url, "UPDATE users SET name = 'Robert' WHERE user_id = 'local:bob'");
            await("a reads bob's new name", () -> "Robert".equals(a.users().get(UserRecord.localId("bob")).name()));
            PgTestDatabase.exec(url, "UPDATE users SET user_id = 'local:caroline' WHERE user_id = 'local:carol'");
            await("carol's old id is gone", () -> a.users().get(UserRecord.localId("carol")) == null);
            PgTestDatabase.exec(url, "TRUNCATE users");
            await("bob is gone after TRUNCATE", () -> a.users().get(UserRecord.localId("bob")) == null);
        }
    }

    @Test
    void anInstanceThatStopsHearingChangesForgetsWhatItKeptAndListensAgain() throws Exception {
        String url = PG.newSchema();
        try (PgStores a = PgStores.open(url, null, 2, 100); PgStores b = PgStores.open(url, null, 2, 100)) {
            await("b hears changes", b.changes::live);
            a.users().add(user("dave", "Dave"));
            await("b keeps dave", () -> b.users().get(UserRecord.localId("dave")) != null && cached(b) == 1);
            Integer pid = b.changes.backendPid();
            assertNotNull(pid);
            PgTestDatabase.exec(url, "SELECT pg_terminate_backend(" + pid + ")");
            await("b notices that it hears nothing", () -> !b.changes.live());
            assertEquals(0, cached(b), "what b kept is forgotten: changes made meanwhile would go unheard");
            a.users().put(user("dave", "David")); // made while b may not be listening
            await("b listens again", b.changes::live);
            assertEquals("David", b.users().get(UserRecord.localId("dave")).name());
            await("a later change is heard again", () -> {
                a.users().put(user("dave", "Dave " + System.nanoTime()));
                return b.users().get(UserRecord.localId("dave")).name().startsWith("Dave ");
            });
        }
    }
}
