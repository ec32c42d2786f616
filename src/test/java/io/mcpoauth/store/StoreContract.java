package io.mcpoauth.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every storage backend promises, artifact by artifact: the named queries, the atomic replace, and that what a
 * method stored is there after a restart (a close and a new open). Each backend has a subclass.
 */
public abstract class StoreContract {
    protected static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    protected Path dir;
    protected Stores stores;

    /** Opens the backend on {@code dir}; a second call after {@link Stores#close} sees what the first one stored. */
    protected abstract Stores open(Path dir);

    @BeforeEach
    void openStores() {
        stores = open(dir);
    }

    @AfterEach
    void closeStores() {
        if (stores != null) stores.close();
    }

    protected void restart() {
        stores.close();
        stores = open(dir);
    }

    static ClientRecord client(String id, Instant created, Instant lastUsed) {
        return new ClientRecord(id, "Client " + id, List.of("http://127.0.0.1/cb"), List.of("authorization_code", "refresh_token"),
                List.of("code"), "none", "mcp", null, null, null, created, lastUsed, null, null);
    }

    static RefreshFamily family(String id, String client, String user, Instant expires) {
        return new RefreshFamily(id, client, user, "mcp", "https://mcp.example/mcp", "hash-" + id, null, List.of(), T0, T0, expires, 0);
    }

    static UserRecord user(String name) {
        return new UserRecord(UserRecord.localId(name), name, "local", name, null, null, null, null, T0, null);
    }

    // ---- clients ----

    @Test
    void clientsAreStoredReplacedRemovedAndSurviveARestart() {
        ClientStore c = stores.clients();
        assertTrue(c.add(client("b", T0, null), 10).stored());
        assertTrue(c.add(client("a", T0, null), 10).stored());
        assertEquals(List.of("a", "b"), c.list().stream().map(ClientRecord::clientId).toList(), "sorted by id");
        ClientRecord renamed = new ClientRecord("a", "Renamed", List.of("http://127.0.0.1/cb"), null, null, "none", null, null, null, null, T0,
                null, null, null);
        assertTrue(c.replace(renamed));
        assertFalse(c.replace(client("ghost", T0, null)), "replace never brings back a removed client");
        assertNull(c.get("ghost"));
        restart();
        c = stores.clients();
        assertEquals("Renamed", c.get("a").clientName());
        assertEquals(2, c.count());
        assertTrue(c.remove("a"));
        assertFalse(c.remove("a"));
        restart();
        assertNull(stores.clients().get("a"));
    }

    @Test
    void atTheClientLimitTheOldestNeverUsedClientMakesRoomAndUsedOnesNever() {
        ClientStore c = stores.clients();
        c.add(client("used-old", T0, T0.plusSeconds(5)), 3);
        c.add(client("unused-1", T0.plusSeconds(1), null), 3);
        c.add(client("unused-2", T0.plusSeconds(2), null), 3);
        ClientStore.Added added = c.add(client("new", T0.plusSeconds(3), null), 3);
        assertTrue(added.stored());
        assertEquals("unused-1", added.evicted(), "the oldest client that never completed a grant");
        assertEquals(3, c.count());
        c.markUsed("unused-2", T0.plusSeconds(9));
        c.markUsed("new", T0.plusSeconds(9));
        ClientStore.Added full = c.add(client("one-more", T0.plusSeconds(4), null), 3);
        assertFalse(full.stored(), "every stored client has been used: nothing is evicted for space");
        assertNull(c.get("one-more"));
        restart();
        assertEquals(T0.plusSeconds(9), stores.clients().get("unused-2").lastUsedAt());
    }

    @Test
    void unusedClientsCreatedBeforeTheCutoffAreRemoved() {
        ClientStore c = stores.clients();
        c.add(client("old-unused", T0, null), 10);
        c.add(client("old-used", T0, T0.plusSeconds(1)), 10);
        c.add(client("new-unused", T0.plus(Duration.ofDays(6)), null), 10);
        assertEquals(List.of("old-unused"), c.removeUnusedCreatedBefore(T0.plus(Duration.ofDays(1))));
        restart();
        assertNull(stores.clients().get("old-unused"));
        assertEquals(2, stores.clients().count());
    }

    // ---- grants ----

    @Test
    void grantsHaveNamedQueriesAndSurviveARestart() {
        GrantStore g = stores.grants();
        g.create(family("f1", "c1", "u1", T0.plusSeconds(100)));
        g.create(family("f2", "c1", "u2", T0.plusSeconds(100)));
        g.create(family("f3", "c2", "u1", T0.plusSeconds(10)));
        g.create(family("f4", "c2", "u2", T0.plusSeconds(100)));
        assertEquals(List.of("f1", "f3"), ids(g.listByUser("u1")));
        assertEquals(4, g.count());
        assertEquals(1, g.countExpired(T0.plusSeconds(10)), "expiry is inclusive");
        restart();
        g = stores.grants();
        assertEquals(List.of("f1", "f2", "f3", "f4"), ids(g.list()));
        assertEquals(List.of("f3"), ids(g.removeExpired(T0.plusSeconds(10), 10)));
        assertEquals(List.of("f1"), ids(g.removeByUserAndClient("u1", "c1")));
        assertEquals(List.of("f2"), ids(g.removeByClient("c1")));
        assertEquals(List.of("f4"), ids(g.removeByUser("u2")));
        restart();
        assertEquals(0, stores.grants().count());
    }

    @Test
    void removeExpiredRemovesAtMostTheLimit() {
        GrantStore g = stores.grants();
        for (int i = 0; i < 5; i++) g.create(family("f" + i, "c", "u", T0));
        assertEquals(2, g.removeExpired(T0, 2).size());
        assertEquals(3, g.count());
    }

    @Test
    void replaceIsACompareAndSetOnTheCurrentTokenAndRotationCount() {
        GrantStore g = stores.grants();
        RefreshFamily f = family("f", "c", "u", T0.plusSeconds(100));
        g.create(f);
        RefreshFamily next = new RefreshFamily("f", "c", "u", "mcp", f.resource(), "hash-2", f.tokenHash(), List.of(), T0, T0.plusSeconds(1),
                T0.plusSeconds(200), 1);
        assertTrue(g.replace(f, next));
        assertFalse(g.replace(f, next), "the stored family is no longer the expected one");
        assertThrows(IllegalArgumentException.class, () -> g.replace(next, family("other", "c", "u", T0)));
        restart();
        assertEquals(next, stores.grants().get("f"));
        assertTrue(stores.grants().remove("f"));
        assertFalse(stores.grants().replace(next, f), "a removed family is not brought back");
        assertNull(stores.grants().get("f"));
    }

    @Test
    void concurrentReplacesOfOneFamilyLetExactlyOneWin() throws Exception {
        GrantStore g = stores.grants();
        RefreshFamily f = family("f", "c", "u", T0.plusSeconds(100));
        g.create(f);
        int n = 16;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<Boolean>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String h = "hash-" + i;
            fs.add(pool.submit(() -> g.replace(f, new RefreshFamily("f", "c", "u", "mcp", f.resource(), h, f.tokenHash(), List.of(), T0, T0,
                    T0.plusSeconds(200), 1))));
        }
        int won = 0;
        for (Future<Boolean> x : fs) won += x.get(30, TimeUnit.SECONDS) ? 1 : 0;
        pool.shutdown();
        assertEquals(1, won);
        assertEquals(1, g.get("f").rotations());
    }

    private static List<String> ids(List<RefreshFamily> fs) {
        return fs.stream().map(RefreshFamily::familyId).sorted().toList();
    }

    // ---- users ----

    @Test
    void usersAreAddedOnceReplacedAtomicallyAndSurviveARestart() {
        UserStore u = stores.users();
        assertTrue(u.add(user("alice")));
        assertFalse(u.add(user("alice")), "the id is taken");
        UserRecord a = u.get("local:alice");
        UserRecord signedIn = a.withLastLoginAt(T0.plusSeconds(5));
        assertTrue(u.replace(a, signedIn));
        assertFalse(u.replace(a, a.withLastLoginAt(T0.plusSeconds(9))), "replace expects the stored record");
        restart();
        assertEquals(signedIn, stores.users().get("local:alice"));
        assertEquals(1, stores.users().count());
        assertTrue(stores.users().remove("local:alice"));
        assertFalse(stores.users().replace(signedIn, signedIn), "a removed user is not brought back");
        restart();
        assertEquals(0, stores.users().count());
    }

    // ---- consents ----

    @Test
    void consentsAreOnePerUserAndClient() {
        ConsentStore c = stores.consents();
        c.put(new ConsentRecord("u1", "c1", List.of("mcp"), T0));
        c.put(new ConsentRecord("u1", "c2", List.of("mcp"), T0));
        c.put(new ConsentRecord("u2", "c1", List.of("mcp"), T0));
        c.put(new ConsentRecord("u1", "c1", List.of("mcp", "extra"), T0.plusSeconds(1)));
        restart();
        c = stores.consents();
        assertEquals(List.of("mcp", "extra"), c.get("u1", "c1").scopes());
        assertEquals(2, c.listByUser("u1").size());
        assertEquals(2, c.listByClient("c1").size());
        assertTrue(c.remove("u1", "c2"));
        assertFalse(c.remove("u1", "c2"));
        assertEquals(2, c.removeByClient("c1"), "u1's and u2's");
        assertNull(c.get("u2", "c1"));
        c.put(new ConsentRecord("u3", "c9", List.of("mcp"), T0));
        assertEquals(1, c.removeByUser("u3"));
        restart();
        assertEquals(List.of(), stores.consents().listByUser("u1"));
    }

    // ---- API keys ----

    @Test
    void apiKeysAreFoundByIdAndRemovedWithTheirUser() {
        ApiKeyStore k = stores.apiKeys();
        ApiKeyRecord a = new ApiKeyRecord("k1", "u1", "laptop", List.of("mcp"), "hash1", T0, null);
        k.create(a);
        k.create(new ApiKeyRecord("k2", "u1", "phone", List.of("mcp"), "hash2", T0, null));
        k.create(new ApiKeyRecord("k3", "u2", "ci", List.of("mcp"), "hash3", T0, null));
        assertThrows(IllegalStateException.class, () -> stores.apiKeys().create(new ApiKeyRecord("k1", "u9", "x", List.of(), "h", T0, null)));
        assertTrue(k.replace(a, a.withLastUsedAt(T0.plusSeconds(1))));
        assertFalse(k.replace(a, a.withLastUsedAt(T0.plusSeconds(2))));
        restart();
        k = stores.apiKeys();
        assertEquals(T0.plusSeconds(1), k.get("k1").lastUsedAt());
        assertEquals(List.of("k1", "k2", "k3"), k.list().stream().map(ApiKeyRecord::id).toList());
        assertEquals(2, k.removeByUser("u1").size());
        assertTrue(k.remove("k3"));
        restart();
        assertEquals(0, stores.apiKeys().count());
    }

    // ---- notes ----

    @Test
    void notesArePerUserNumberedAndCapped() {
        NoteStore n = stores.notes();
        assertEquals(1, n.add("u1", "first", T0, 3, 100).id());
        assertEquals(2, n.add("u1", "second", T0, 3, 100).id());
        assertEquals(1, n.add("u2", "theirs", T0, 3, 100).id());
        assertThrows(NoteStore.Full.class, () -> stores.notes().add("u1", "x".repeat(90), T0, 3, 100), "bytes in all");
        assertEquals(3, n.add("u1", "third", T0, 3, 100).id());
        assertThrows(NoteStore.Full.class, () -> stores.notes().add("u1", "fourth", T0, 3, 100), "notes per user");
        restart();
        n = stores.notes();
        assertEquals(List.of("first", "second", "third"), n.list("u1").stream().map(NoteRecord.Note::text).toList());
        assertEquals(3, n.removeAll("u1"));
        assertEquals(List.of(), n.list("u1"));
        assertEquals(1, n.list("u2").size(), "another user's notes are untouched");
        assertEquals(1, n.add("u1", "again", T0, 3, 100).id(), "numbering starts over for a user with no notes");
    }

    @Test
    void noteBytesAreCountedInUtf8() {
        NoteStore n = stores.notes();
        n.add("u", "\uD83D\uDE00".repeat(10), T0, 10, 40); // 10 characters, 40 bytes
        assertThrows(NoteStore.Full.class, () -> stores.notes().add("u", "a", T0, 10, 40));
    }

    // ---- identity-provider tokens ----

    @Test
    void idpTokensAreReplacedOnlyOverTheSameCiphertext() {
        IdpTokenStore t = stores.idpTokens();
        IdpTokenRecord a = new IdpTokenRecord("u1", "oidc", "k", "cipher-a", List.of("openid"), null, true, T0, null);
        IdpTokenRecord b = new IdpTokenRecord("u1", "oidc", "k", "cipher-b", List.of("openid"), null, true, T0, T0.plusSeconds(1));
        t.put(a);
        assertTrue(t.replace(a, b));
        assertFalse(t.replace(a, b), "a refresh that lost the race does not overwrite");
        assertFalse(t.removeIfSame(a));
        restart();
        t = stores.idpTokens();
        assertEquals("cipher-b", t.get("u1").ciphertext());
        assertEquals(1, t.count());
        assertTrue(t.removeIfSame(b));
        assertFalse(t.remove("u1"));
    }

    // ---- connections ----

    static ConnectionRecord connection(String user, String name, String access, long revision) {
        return new ConnectionRecord(user, name, "k", access, "refresh-" + access, T0.plusSeconds(3600), List.of("read", "write"), user + "@example.com",
                ConnectionRecord.CONNECTED, T0, null, null, null, null, revision);
    }

    @Test
    void connectionsArePerUserAndNameReplacedOnlyOverTheSameRevisionAndSurviveARestart() {
        ConnectionStore c = stores.connections();
        ConnectionRecord a = connection("local:ann", "github", "cipher-a", 1);
        c.put(a);
        c.put(connection("local:ann", "gmail", "cipher-g", 1));
        c.put(connection("local:bob", "github", "cipher-b", 1));
        assertEquals(List.of("github", "gmail"), c.listByUser("local:ann").stream().map(ConnectionRecord::name).toList(), "sorted by name");
        assertEquals("cipher-b", c.get("local:bob", "github").accessCiphertext(), "each user has their own");
        assertNull(c.get("local:bob", "gmail"));
        ConnectionRecord marked = a.marked(T0.plusSeconds(5), "instance-1");
        assertTrue(c.replace(a, marked), "the in-flight marker is stored over the read revision");
        assertFalse(c.replace(a, a.withStatus(ConnectionRecord.NEEDS_RECONNECT)), "a writer that read an older revision loses");
        restart();
        c = stores.connections();
        ConnectionRecord back = c.get("local:ann", "github");
        assertEquals(T0.plusSeconds(5), back.refreshingSince(), "the marker is durable");
        assertEquals("instance-1", back.refreshOwner());
        assertEquals(2, back.revision());
        assertEquals(List.of("read", "write"), back.scopes());
        assertEquals("refresh-cipher-a", back.refreshCiphertext());
        assertEquals(3, c.count());
        assertEquals(3, c.list().size());
        assertEquals("github", c.remove("local:ann", "github").name());
        assertNull(c.remove("local:ann", "github"), "removed once");
        assertEquals(1, c.removeByUser("local:ann"));
        assertEquals(List.of(), c.listByUser("local:ann"));
        assertEquals(1, c.count(), "the other user's connection stays");
        restart();
        assertEquals(1, stores.connections().count());
    }

    @Test
    void concurrentReplacesOfOneConnectionLetExactlyOneWin() throws Exception {
        ConnectionStore c = stores.connections();
        ConnectionRecord a = connection("u", "svc", "cipher", 7);
        c.put(a);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int n = i;
                fs.add(pool.submit(() -> c.replace(a, a.marked(T0.plusSeconds(n), "o" + n))));
            }
            int won = 0;
            for (Future<Boolean> f : fs) if (f.get(30, TimeUnit.SECONDS)) won++;
            assertEquals(1, won, "one refresh marks the connection; the others see it changed");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(8, c.get("u", "svc").revision());
    }

    // ---- access tokens ----

    @Test
    void accessTokensAreKeptPerGrantNewestFirstAndRemovedWithTheirGrant() {
        AccessTokenStore a = stores.accessTokens();
        AccessToken t = new AccessToken("c", "u", Set.of("mcp"), "https://mcp.example/mcp", "g1", T0.plusSeconds(60));
        for (int i = 0; i < 20; i++) assertTrue(a.put("h" + i, t, T0));
        assertTrue(a.count() < 20, "a grant keeps only its newest few tokens");
        assertNotNull(a.get("h19", T0), "the newest is kept");
        assertNull(a.get("h0", T0), "the oldest made room");
        a.put("other", new AccessToken("c", "u", Set.of("mcp"), "https://mcp.example/mcp", "g2", T0.plusSeconds(60)), T0);
        assertTrue(a.removeByGrant("g1") > 0);
        assertNull(a.get("h19", T0));
        assertNotNull(a.get("other", T0));
        assertNull(a.get("other", T0.plusSeconds(60)), "expired");
    }

    // ---- short-lived records ----

    static CodeRecord code(String user, String client, Instant expires) {
        return new CodeRecord(client, user, "http://127.0.0.1/cb", true, "challenge", Set.of("mcp"), null, expires, CodeRecord.ISSUED, null);
    }

    @Test
    void aShortLivedRecordIsTakenByExactlyOneOfRacingCallers() throws Exception {
        ShortLivedStore<CodeRecord> codes = stores.codes();
        for (int round = 0; round < 20; round++) {
            String key = "code-" + round;
            assertTrue(codes.put(key, code("u", "c", T0.plusSeconds(60)), T0.plusSeconds(60), T0));
            int n = 8;
            ExecutorService pool = Executors.newFixedThreadPool(n);
            List<Future<CodeRecord>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) fs.add(pool.submit(() -> codes.take(key, T0)));
            int got = 0;
            for (Future<CodeRecord> f : fs) got += f.get(30, TimeUnit.SECONDS) != null ? 1 : 0;
            pool.shutdown();
            assertEquals(1, got);
            assertNull(codes.get(key, T0));
        }
    }

    @Test
    void shortLivedRecordsExpireAreReplacedAtomicallyAndEndWithTheirUserOrClient() {
        ShortLivedStore<CodeRecord> codes = stores.codes();
        CodeRecord a = code("u1", "c1", T0.plusSeconds(60));
        codes.put("a", a, T0.plusSeconds(60), T0);
        codes.put("b", code("u2", "c1", T0.plusSeconds(60)), T0.plusSeconds(60), T0);
        codes.put("c", code("u2", "c2", T0.plusSeconds(60)), T0.plusSeconds(60), T0);
        codes.put("short", code("u3", "c3", T0.plusSeconds(1)), T0.plusSeconds(1), T0);
        CodeRecord taken = a.with(CodeRecord.REDEEMING, null);
        assertTrue(codes.replace("a", a, taken, T0.plusSeconds(600), T0));
        assertFalse(codes.replace("a", a, a.with(CodeRecord.REDEEMED, "g"), T0.plusSeconds(600), T0), "no longer the expected record");
        assertEquals(taken, codes.get("a", T0.plusSeconds(300)), "the replacement carries its own expiry");
        assertNull(codes.get("short", T0.plusSeconds(1)), "expiry is inclusive");
        assertEquals(1, codes.removeByUser("u1"));
        assertEquals(1, codes.removeByClient("c2"));
        assertNotNull(codes.get("b", T0));
        assertTrue(codes.remove("b"));
        assertFalse(codes.remove("b"));
        codes.sweep(T0.plusSeconds(3600));
        assertEquals(0, codes.count());
    }

    @Test
    void browserSessionsAreKeptByHashWithOwnerCapsAndEndForTheirUserExceptOne() {
        ShortLivedStore<SessionRecord> sessions = stores.sessions();
        io.mcpoauth.core.ExpiringMap.Policy capped = io.mcpoauth.core.ExpiringMap.Policy.evictable(new io.mcpoauth.core.ExpiringMap.Owner("a 198.51.100.7", 3));
        for (int i = 0; i < 5; i++) {
            assertTrue(sessions.put("anon-" + i, new SessionRecord(null, "b" + i, T0.plusSeconds(60)), T0.plusSeconds(60), T0.plusMillis(i), capped));
        }
        assertNull(sessions.get("anon-0", T0), "the owner's oldest made room");
        assertNull(sessions.get("anon-1", T0));
        assertEquals(new SessionRecord(null, "b4", T0.plusSeconds(60)), sessions.get("anon-4", T0));
        assertEquals(3, sessions.count());
        sessions.put("alice-1", new SessionRecord("local:alice", "b1", T0.plusSeconds(600)), T0.plusSeconds(600), T0);
        sessions.put("alice-2", new SessionRecord("local:alice", "b2", T0.plusSeconds(600)), T0.plusSeconds(600), T0);
        sessions.put("bob", new SessionRecord("local:bob", "b3", T0.plusSeconds(600)), T0.plusSeconds(600), T0);
        assertEquals(1, sessions.removeByUser("local:alice", "alice-2"), "every session of the user but the one kept");
        assertNotNull(sessions.get("alice-2", T0));
        assertEquals(1, sessions.removeByUser("local:alice"));
        assertNotNull(sessions.get("bob", T0));
        assertEquals(3, sessions.sweep(T0.plusSeconds(60)), "the anonymous ones expired");
        assertEquals(1, sessions.count());
    }

    @Test
    void pendingAuthorizationsKeepTheWholeRequestAndArePerBrowserCapped() {
        ShortLivedStore<PendingRecord> pending = stores.pending();
        ClientRecord c = client("c1", T0, null);
        PendingRecord p = new PendingRecord(c, "http://127.0.0.1:4711/cb", false, "st", "challenge",
                new java.util.LinkedHashSet<>(List.of("mcp", "extra", "alpha")), "https://mcp.example/mcp", "browser", "csrf", null, T0.plusSeconds(600));
        io.mcpoauth.core.ExpiringMap.Policy perBrowser = io.mcpoauth.core.ExpiringMap.Policy.keep(new io.mcpoauth.core.ExpiringMap.Owner("b browser", 2));
        assertTrue(pending.put("p1", p, p.expiresAt(), T0, perBrowser));
        PendingRecord back = pending.get("p1", T0);
        assertEquals(p, back);
        assertEquals(List.of("mcp", "extra", "alpha"), List.copyOf(back.scopes()), "the scopes keep the order asked for");
        assertEquals("c1", back.clientId());
        PendingRecord signedIn = p.with("browser", "local:alice");
        assertTrue(pending.put("p1", signedIn, p.expiresAt(), T0.plusMillis(1), perBrowser), "replaced under the same id");
        assertTrue(pending.put("p2", p, p.expiresAt(), T0.plusMillis(2), perBrowser));
        assertTrue(pending.put("p3", p, p.expiresAt(), T0.plusMillis(3), perBrowser));
        assertNull(pending.get("p1", T0), "a browser holds at most its cap: its oldest went");
        assertEquals(2, pending.count());
        assertEquals(2, pending.removeByClient("c1"));
        assertNull(pending.take("p3", T0));
    }

    @Test
    void whenFullTheOldestEvictableRecordMakesRoomAndKeptOnesNever() {
        int max = maxShortLived();
        ShortLivedStore<SessionRecord> sessions = stores.sessions();
        for (int i = 0; i < max; i++) {
            assertTrue(sessions.put("kept-" + i, new SessionRecord("local:u" + i, "b", T0.plusSeconds(600)), T0.plusSeconds(600), T0.plusMillis(i)));
        }
        assertFalse(sessions.put("anon", new SessionRecord(null, "b", T0.plusSeconds(60)), T0.plusSeconds(60), T0.plusSeconds(1),
                io.mcpoauth.core.ExpiringMap.Policy.EVICTABLE), "full of records that may not be evicted");
        assertTrue(sessions.remove("kept-0"));
        assertTrue(sessions.put("anon-1", new SessionRecord(null, "b", T0.plusSeconds(60)), T0.plusSeconds(60), T0.plusSeconds(1),
                io.mcpoauth.core.ExpiringMap.Policy.EVICTABLE));
        assertTrue(sessions.put("anon-2", new SessionRecord(null, "b", T0.plusSeconds(60)), T0.plusSeconds(60), T0.plusSeconds(2),
                io.mcpoauth.core.ExpiringMap.Policy.EVICTABLE), "the older anonymous one made room");
        assertNull(sessions.get("anon-1", T0.plusSeconds(2)));
        assertNotNull(sessions.get("anon-2", T0.plusSeconds(2)));
        assertTrue(sessions.put("late", new SessionRecord("local:late", "b", T0.plusSeconds(600)), T0.plusSeconds(600), T0.plusSeconds(3)),
                "a kept record takes the evictable one's place");
        assertNull(sessions.get("anon-2", T0.plusSeconds(3)));
        assertEquals(max, sessions.count());
        assertTrue(sessions.put("after-expiry", new SessionRecord("local:x", "b", T0.plusSeconds(1200)), T0.plusSeconds(1200), T0.plusSeconds(600)),
                "expired records make room");
    }

    /** How many browser sessions the backend opened by {@link #open} holds at most ({@link #MAX_BROWSER_SESSIONS}). */
    protected int maxShortLived() {
        return MAX_BROWSER_SESSIONS;
    }

    /** What subclasses open their backend with for sessions and pending authorizations, so that "full" is quick to reach. */
    public static final int MAX_BROWSER_SESSIONS = 20;

    @Test
    void aSharedKeyIsCreatedOnceAndIsTheSameAfterARestart() {
        byte[] a = stores.sharedKey("request-state");
        assertEquals(32, a.length);
        assertTrue(java.util.Arrays.equals(a, stores.sharedKey("request-state")));
        assertFalse(java.util.Arrays.equals(a, stores.sharedKey("another")), "each name has its own key");
        restart();
        assertTrue(java.util.Arrays.equals(a, stores.sharedKey("request-state")), "the same key after a restart");
    }
}
