package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.oauth.RefreshTokens.Outcome;
import io.mcpoauth.oauth.RefreshTokens.Rotation;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.Stores;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances on one database, each remembering the families it rotated last: a refresh bringing the token an
 * instance issued skips the read, and whatever the other instance did meanwhile, the verdict is the one a fresh read
 * gives (the conditional UPDATE refuses an outdated family, and every refusal is judged again on the database's row).
 * A rotation that issues an access token writes both in one statement: both or neither.
 */
class PgRecentRotationTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    private static final Duration TTL = Duration.ofHours(1);
    private static final Instant T0 = Instant.parse("2026-06-01T10:00:00Z");

    private Stores a;
    private Stores b;
    private RefreshTokens onA;
    private RefreshTokens onB;

    @BeforeEach
    void open() {
        String url = PG.newSchema();
        a = PgStores.open(url, null, 2, 100);
        b = PgStores.open(url, null, 2, 100);
        onA = new RefreshTokens(a.grants(), TTL);
        onB = new RefreshTokens(b.grants(), TTL);
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    private static Rotation rotate(RefreshTokens on, String token, Instant at) {
        return on.rotate(token, "client-1", at, f -> {});
    }

    private static String familyOf(String token) {
        return RefreshTokens.familyIdOf(token);
    }

    @Test
    void theFamilyRotatedHereIsRememberedAsTheDatabaseHoldsIt() {
        String t0 = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        Rotation r1 = rotate(onA, t0, T0.plusSeconds(1));
        assertEquals(Outcome.ROTATED, r1.outcome());
        RefreshFamily recent = a.grants().recent(familyOf(t0));
        assertNotNull(recent, "the rotated family is remembered");
        assertEquals(Secrets.hash(r1.refreshToken()), recent.tokenHash());
        assertNull(b.grants().recent(familyOf(t0)), "the other instance did not write it");
        assertEquals(recent, b.grants().get(familyOf(t0)), "what is remembered is what the database holds");
    }

    @Test
    void theOtherInstancesRotationIsSeenAndTheOutdatedFamilyIsNeverWritten() {
        String t0 = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        String t1 = rotate(onA, t0, T0.plusSeconds(1)).refreshToken();
        // B rotates the token A issued: A's remembered family is now outdated
        String t2 = rotate(onB, t1, T0.plusSeconds(2)).refreshToken();
        assertNotNull(t2);
        // t1 at A: A remembers t1 as current, the database has it as the previous token within its grace: one retry
        Rotation retry = rotate(onA, t1, T0.plusSeconds(3));
        assertEquals(Outcome.ROTATED, retry.outcome(), "the lost-response retry, judged on the database's row");
        RefreshFamily f = b.grants().get(familyOf(t0));
        assertEquals(3, f.rotations());
        assertTrue(f.graceUsed());
        assertEquals(Secrets.hash(retry.refreshToken()), f.tokenHash());
        // a second retry of t1 is reuse and revokes the family, wherever it lands
        assertEquals(Outcome.REUSED, rotate(onB, t1, T0.plusSeconds(4)).outcome());
        assertNull(a.grants().get(familyOf(t0)));
        assertEquals(Outcome.UNKNOWN, rotate(onA, retry.refreshToken(), T0.plusSeconds(5)).outcome(), "revoked on the other instance");
    }

    /** A grant's first token, and the token A issued and still remembers as current, which B has since retired. */
    private record Retired(String first, String retired) {}

    /** A rotates t0 to t1; B rotates t1 and then its successor: t1 is retired, A still remembers it as current. */
    private Retired retiredWhileRemembered() {
        String t0 = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        String t1 = rotate(onA, t0, T0.plusSeconds(1)).refreshToken();
        String t2 = rotate(onB, t1, T0.plusSeconds(2)).refreshToken();
        assertNotNull(rotate(onB, t2, T0.plusSeconds(3)).refreshToken());
        return new Retired(t0, t1);
    }

    @Test
    void aRetiredTokenPresentedWhereItWasCurrentIsReuse() {
        Retired g = retiredWhileRemembered();
        String t0 = g.first();
        String t1 = g.retired();
        // t1 is retired now, but A still remembers it as current
        assertEquals(Outcome.REUSED, rotate(onA, t1, T0.plusSeconds(4)).outcome());
        assertNull(b.grants().get(familyOf(t0)), "the whole family is revoked");
    }

    @Test
    void aRefusalMadeOnAnOutdatedFamilyIsJudgedAgainOnTheDatabasesRow() {
        Retired g = retiredWhileRemembered();
        String t0 = g.first();
        String t1 = g.retired();
        // A's precheck refuses on the family it remembers; the database's row says t1 is retired: reuse, not the refusal
        AtomicInteger prechecks = new AtomicInteger();
        Rotation r = onA.rotate(t1, "client-1", T0.plusSeconds(4), f -> {
            prechecks.incrementAndGet();
            throw new IllegalStateException("refused");
        });
        assertEquals(Outcome.REUSED, r.outcome());
        assertEquals(1, prechecks.get());
        assertNull(a.grants().get(familyOf(t0)));
    }

    @Test
    void aRefusalOnAFamilyThatDidNotChangeStands() {
        String t0 = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        String t1 = rotate(onA, t0, T0.plusSeconds(1)).refreshToken();
        assertThrows(IllegalStateException.class, () -> onA.rotate(t1, "client-1", T0.plusSeconds(2), f -> {
            throw new IllegalStateException("refused");
        }));
        RefreshFamily f = b.grants().get(familyOf(t0));
        assertEquals(Secrets.hash(t1), f.tokenHash(), "nothing changed");
        assertEquals(Outcome.ROTATED, rotate(onB, t1, T0.plusSeconds(3)).outcome());
    }

    @Test
    void aRotationThatIssuesAnAccessTokenWritesBothOrNeither() {
        String t0 = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        String familyId = familyOf(t0);
        Instant at = T0.plusSeconds(1);
        String hash1 = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        Rotation r = onA.rotate(t0, "client-1", at, f -> {}, new RefreshTokens.Access(a.accessTokens(), hash1, f -> token(f, at)));
        assertEquals(Outcome.ROTATED, r.outcome());
        AccessToken seen = b.accessTokens().get(hash1, at);
        assertNotNull(seen, "the other instance sees the access token");
        assertEquals(familyId, seen.grantId());

        // the family changed meanwhile: neither the family nor the token is written
        RefreshFamily outdated = b.grants().get(familyId);
        assertEquals(Outcome.ROTATED, rotate(onB, r.refreshToken(), T0.plusSeconds(2)).outcome());
        RefreshFamily now = b.grants().get(familyId);
        String hash2 = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        RefreshFamily next = new RefreshFamily(familyId, outdated.clientId(), outdated.userId(), outdated.scope(), outdated.resource(),
                Secrets.hash("another"), outdated.tokenHash(), outdated.retired(), outdated.createdAt(), at, at.plus(TTL), outdated.rotations() + 1, false);
        assertSame(GrantStore.Replaced.CHANGED, a.grants().replace(outdated, next, a.accessTokens(), hash2, token(outdated, at), at));
        assertNull(b.accessTokens().get(hash2, at), "no access token for a rotation that did not happen");
        assertEquals(now, b.grants().get(familyId), "the family is as the other instance left it");
    }

    @Test
    void aGrantKeepsItsNewestAccessTokensOnly() {
        String token = onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken();
        String familyId = familyOf(token);
        int rounds = PgStores.ACCESS_TOKENS_PER_GRANT + 3;
        String[] hashes = new String[rounds];
        for (int i = 0; i < rounds; i++) {
            Instant at = T0.plusSeconds(i + 1);
            hashes[i] = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
            RefreshTokens on = i % 2 == 0 ? onA : onB;
            Stores s = i % 2 == 0 ? a : b;
            Rotation r = on.rotate(token, "client-1", at, f -> {}, new RefreshTokens.Access(s.accessTokens(), hashes[i], f -> token(f, at)));
            assertEquals(Outcome.ROTATED, r.outcome(), "round " + i);
            token = r.refreshToken();
        }
        Instant end = T0.plusSeconds(rounds);
        for (int i = 0; i < rounds; i++) {
            boolean kept = i >= rounds - PgStores.ACCESS_TOKENS_PER_GRANT;
            assertEquals(kept, a.accessTokens().get(hashes[i], end) != null, "token " + i + " of " + familyId);
        }
    }

    @Test
    void bothInstancesRotatingTheSameFewGrantsAtOnceNeverDeadlockAndEveryRotationHasItsToken() throws Exception {
        int slots = 6;
        java.util.concurrent.atomic.AtomicReferenceArray<String> current = new java.util.concurrent.atomic.AtomicReferenceArray<>(slots);
        for (int i = 0; i < slots; i++) current.set(i, onA.create("client-1", "alice", "mcp", null, true, T0).refreshToken());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        java.util.concurrent.ConcurrentHashMap<Outcome, AtomicInteger> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.List<java.util.concurrent.Future<?>> work = new java.util.ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            work.add(pool.submit(() -> {
                java.util.Random rnd = new java.util.Random(thread);
                Stores s = thread % 2 == 0 ? a : b;
                RefreshTokens on = thread % 2 == 0 ? onA : onB;
                for (int i = 0; i < 200; i++) {
                    int slot = rnd.nextInt(slots);
                    String presented = current.get(slot);
                    Instant at = T0.plusSeconds(1);
                    String hash = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
                    Rotation r = on.rotate(presented, "client-1", at, f -> {}, new RefreshTokens.Access(s.accessTokens(), hash, f -> token(f, at)));
                    outcomes.computeIfAbsent(r.outcome(), k -> new AtomicInteger()).incrementAndGet();
                    switch (r.outcome()) {
                        case ROTATED -> {
                            assertNotNull((s == a ? b : a).accessTokens().get(hash, at), "the other instance sees the rotation's access token");
                            current.compareAndSet(slot, presented, r.refreshToken());
                        }
                        case REUSED, UNKNOWN -> {
                            assertNull(s.accessTokens().get(hash, at), "no access token without a rotation");
                            // the grant is gone (a racing retry counted as reuse): start a new one in this slot
                            if (current.get(slot).equals(presented)) {
                                current.compareAndSet(slot, presented, on.create("client-1", "alice", "mcp", null, true, at).refreshToken());
                            }
                        }
                        default -> throw new AssertionError("unexpected " + r.outcome());
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        for (java.util.concurrent.Future<?> f : work) f.get(60, java.util.concurrent.TimeUnit.SECONDS); // a deadlock or a timeout fails here
        assertTrue(outcomes.get(Outcome.ROTATED).get() > 100, "rotations happened: " + outcomes);
        assertTrue(outcomes.containsKey(Outcome.REUSED), "the instances raced on the same tokens: " + outcomes);
    }

    private static AccessToken token(RefreshFamily f, Instant at) {
        return new AccessToken(f.clientId(), f.userId(), Set.of("mcp"), f.resource(), f.familyId(), at.plus(Duration.ofHours(1)));
    }
}
