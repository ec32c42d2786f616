package io.mcpoauth.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.oauth.RefreshTokens.Outcome;
import io.mcpoauth.oauth.RefreshTokens.Rotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Refresh-token rotation rules ({@link RefreshTokens}) over a storage backend, reopened for restarts: the same cases
 * for every backend (each subclass names one).
 */
public abstract class GrantRulesContract {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofHours(1);

    @TempDir
    Path dir;

    private Stores store;
    private RefreshTokens tokens;

    /** Opens the backend on {@code dir}; a second call after {@link Stores#close} sees what the first one stored. */
    protected abstract Stores open(Path dir);

    /** Whether the backend keeps files in {@code dir} (checked for raw tokens after each test). */
    protected boolean writesFiles() {
        return true;
    }

    /** Everything a backend that keeps no files stored for {@code dir}, as text (checked for raw tokens); null: nothing to check. */
    protected String storedText(Path dir) {
        return null;
    }
    /** Every refresh token handed out in a test, to check none reaches the disk. */
    private final Set<String> issued = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void open() {
        reopen();
    }

    @AfterEach
    void noRawTokenOnDisk() throws Exception {
        store.close();
        String stored = storedText(dir);
        if (stored != null) {
            for (String t : issued) {
                assertFalse(stored.contains(t.substring(t.indexOf('.') + 1)), "the secret part of a refresh token is stored");
            }
        }
        if (!writesFiles()) return;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.toList();
        }
        assertFalse(files.isEmpty());
        for (Path f : files) {
            String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String t : issued) {
                String secret = t.substring(t.indexOf('.') + 1);
                assertFalse(content.contains(secret), "the secret part of a refresh token appears in " + f.getFileName());
            }
        }
    }

    private void reopen() {
        if (store != null) store.close();
        store = open(dir);
        tokens = new RefreshTokens(store.grants(), TTL);
    }

    private String create(String client, Instant now) {
        String t = tokens.create(client, "alice", "mcp", "https://mcp.example/mcp", true, now).refreshToken();
        issued.add(t);
        return t;
    }

    private Rotation rotate(String presented, String client, Instant now) {
        Rotation r = tokens.rotate(presented, client, now, f -> {});
        if (r.refreshToken() != null) issued.add(r.refreshToken());
        return r;
    }

    private RefreshFamily familyOf(String token) {
        return tokens.get(RefreshTokens.familyIdOf(token));
    }

    private static boolean isCurrent(RefreshFamily f, String token) {
        return f != null && Secrets.hash(token).equals(f.tokenHash());
    }

    @Test
    void rotateWithCurrentIssuesASuccessorAndKeepsThePreviousValid() {
        String t0 = create("c", T0);
        Rotation r = rotate(t0, "c", T0.plusSeconds(10));
        assertEquals(Outcome.ROTATED, r.outcome());
        String t1 = r.refreshToken();
        assertTrue(t1.startsWith("mcprt_" + RefreshTokens.familyIdOf(t0) + "."));
        assertNotEquals(t0, t1);
        RefreshFamily f = familyOf(t0);
        assertTrue(isCurrent(f, t1));
        assertEquals(Secrets.hash(t0), f.previousHash());
        assertEquals(T0.plusSeconds(10).plus(TTL), f.expiresAt(), "sliding lifetime: each rotation starts a new period");
        assertNotNull(tokens.find(t0, T0.plusSeconds(10)), "previous stays valid until the successor is used");
    }

    @Test
    void retryWithThePreviousTokenBeforeTheSuccessorIsUsedRotatesOnceAlsoAfterARestart() {
        String t0 = create("c", T0);
        String lost = rotate(t0, "c", T0).refreshToken(); // the response with `lost` never reached the client
        reopen(); // and the server restarted meanwhile
        Rotation retry = rotate(t0, "c", T0.plusSeconds(1));
        assertEquals(Outcome.ROTATED, retry.outcome(), "a lost response is retried with the previous token");
        RefreshFamily f = familyOf(t0);
        assertTrue(isCurrent(f, retry.refreshToken()));
        assertEquals(Secrets.hash(t0), f.previousHash(), "the presented token stays the previous one");
        assertTrue(f.graceUsed());
        assertNull(tokens.find(lost, T0.plusSeconds(1)), "the never-delivered successor is retired");
        // the successor of the retry works as usual, and then the old token is dead
        String next = rotate(retry.refreshToken(), "c", T0.plusSeconds(3)).refreshToken();
        assertNotNull(next);
        assertNull(tokens.find(t0, T0.plusSeconds(3)));
    }

    @Test
    void aSecondRetryWithThePreviousTokenIsReuseAndRevokesTheFamily() {
        String t0 = create("c", T0);
        rotate(t0, "c", T0);
        assertEquals(Outcome.ROTATED, rotate(t0, "c", T0.plusSeconds(1)).outcome(), "one retry");
        reopen(); // the retry is remembered across a restart
        assertEquals(Outcome.REUSED, rotate(t0, "c", T0.plusSeconds(2)).outcome(), "a second one is a replay");
        assertNull(familyOf(t0), "the whole family is revoked");
    }

    @Test
    void aRetryAfterTheGracePeriodIsReuseAndRevokesTheFamily() {
        String t0 = create("c", T0);
        String t1 = rotate(t0, "c", T0).refreshToken();
        Instant late = T0.plus(RefreshTokens.DEFAULT_GRACE);
        assertEquals(Outcome.REUSED, rotate(t0, "c", late).outcome(), "the grace period has passed");
        assertNull(familyOf(t0));
        assertNull(tokens.find(t1, late), "the successor dies with the family");
    }

    @Test
    void reusingThePreviousTokenAfterTheSuccessorWasUsedRevokesTheFamily() {
        String t0 = create("c", T0);
        String t1 = rotate(t0, "c", T0).refreshToken();
        String t2 = rotate(t1, "c", T0).refreshToken(); // t1 used: t0 is now retired
        reopen();
        Rotation reuse = rotate(t0, "c", T0.plusSeconds(5));
        assertEquals(Outcome.REUSED, reuse.outcome());
        assertNull(familyOf(t0), "the whole family is revoked");
        assertNull(tokens.find(t2, T0.plusSeconds(5)), "including its current token");
        assertEquals(Outcome.UNKNOWN, rotate(t2, "c", T0.plusSeconds(6)).outcome());
        reopen();
        assertNull(familyOf(t0), "the revocation is durable");
    }

    @Test
    void wrongClientLeavesTheFamilyUnchanged() {
        String t0 = create("c", T0);
        String t1 = rotate(t0, "c", T0).refreshToken();
        RefreshFamily before = familyOf(t0);
        assertEquals(Outcome.WRONG_CLIENT, rotate(t1, "other", T0).outcome());
        assertEquals(Outcome.WRONG_CLIENT, rotate(t0, "other", T0).outcome());
        assertEquals(before, familyOf(t0));
        reopen();
        assertEquals(before, familyOf(t0));
        assertEquals(Outcome.ROTATED, rotate(t1, "c", T0).outcome());
    }

    @Test
    void expiredFamilyIsRefusedAndLeftForTheSweeper() {
        String t0 = create("c", T0);
        Instant later = T0.plus(TTL);
        assertNull(tokens.find(t0, later), "expiry is inclusive");
        assertEquals(Outcome.EXPIRED, rotate(t0, "c", later).outcome());
        assertNotNull(familyOf(t0), "refused, not deleted: a clock stepped forward must not destroy grants");
        assertEquals(Outcome.ROTATED, rotate(t0, "c", T0.plusSeconds(5)).outcome(), "once the clock is right again it works");
        assertEquals(1, store.grants().removeExpired(later.plus(TTL), 10).size(), "the sweeper removes it");
        reopen();
        assertNull(familyOf(t0));
        assertEquals(Outcome.UNKNOWN, rotate(t0, "c", later).outcome());
    }

    @Test
    void unknownAndMalformedTokens() {
        String t0 = create("c", T0);
        assertEquals(Outcome.UNKNOWN, rotate(t0 + "x", "c", T0).outcome());
        assertEquals(Outcome.UNKNOWN, rotate("mcprt_nope.secret", "c", T0).outcome());
        assertEquals(Outcome.UNKNOWN, rotate("garbage", "c", T0).outcome());
        assertEquals(Outcome.UNKNOWN, rotate(null, "c", T0).outcome());
        assertEquals(0, familyOf(t0).rotations());
    }

    @Test
    void aRefusingPrecheckChangesNothing() {
        String t0 = create("c", T0);
        assertThrows(IllegalStateException.class, () -> tokens.rotate(t0, "c", T0, f -> {
            throw new IllegalStateException("scope too wide");
        }));
        RefreshFamily f = familyOf(t0);
        assertTrue(isCurrent(f, t0));
        assertEquals(0, f.rotations());
    }

    @Test
    void revokeAndRevokeIfAreDurable() {
        String a = create("c", T0), b = create("c", T0), c = create("other", T0);
        assertTrue(tokens.revoke(RefreshTokens.familyIdOf(a)));
        assertFalse(tokens.revoke(RefreshTokens.familyIdOf(a)));
        assertEquals(1, store.grants().removeByClient("c").size());
        reopen();
        assertNull(familyOf(a));
        assertNull(familyOf(b));
        assertNotNull(familyOf(c));
    }

    @Test
    void thirtyTwoThreadsRotatingTheSameTokenNeverLeaveTwoLiveChains() throws Exception {
        for (int round = 0; round < 5; round++) {
            String t0 = create("c", T0);
            int n = 32;
            ExecutorService pool = Executors.newFixedThreadPool(n);
            CyclicBarrier start = new CyclicBarrier(n);
            List<Future<Rotation>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return rotate(t0, "c", T0);
                }));
            }
            List<String> successors = new ArrayList<>();
            int reused = 0;
            for (Future<Rotation> f : fs) {
                Rotation r = f.get(30, TimeUnit.SECONDS);
                if (r.outcome() == Outcome.ROTATED) successors.add(r.refreshToken());
                else if (r.outcome() == Outcome.REUSED) reused++;
                else assertEquals(Outcome.UNKNOWN, r.outcome(), "after the revocation the family is unknown");
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            assertEquals(2, successors.size(), "the current token once, and the previous one once (a lost response)");
            assertTrue(reused >= 1, "a third use is a replay");
            if (round % 2 == 1) reopen();
            assertNull(familyOf(t0), "the replay revoked the family");
            assertTrue(successors.stream().allMatch(x -> tokens.find(x, T0) == null), "no successor works");
        }
    }

    @Test
    void twoConcurrentRefreshesWithOneTokenBothSucceedAndLeaveOneLiveChain() throws Exception {
        for (int round = 0; round < 5; round++) {
            String t0 = create("c", T0);
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<Rotation>> fs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                fs.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return rotate(t0, "c", T0);
                }));
            }
            List<String> successors = new ArrayList<>();
            for (Future<Rotation> f : fs) {
                Rotation r = f.get(30, TimeUnit.SECONDS);
                assertEquals(Outcome.ROTATED, r.outcome());
                successors.add(r.refreshToken());
            }
            pool.shutdown();
            List<String> live = successors.stream().filter(x -> tokens.find(x, T0) != null).toList();
            assertEquals(1, live.size(), "exactly one successor works");
            assertTrue(isCurrent(familyOf(t0), live.get(0)));
        }
    }

    @Test
    void sweeperRacingRotationsLosesNoAcknowledgedRotationAndLeavesNoExpiredFamily() throws Exception {
        // fake time runs 600x real time: 1 h of TTL passes in 6 s; rotated chains keep renewing, abandoned ones expire
        long startNanos = System.nanoTime();
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return T0.plusNanos((System.nanoTime() - startNanos) * 600);
            }
        };
        int chains = 16;
        String[] current = new String[chains];
        for (int i = 0; i < chains; i++) current[i] = create("c", clock.instant());
        List<String> abandoned = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // expire one after another during the race: created between 58 and 40 minutes before T0
            abandoned.add(create("c", T0.minus(Duration.ofMinutes(58)).plus(Duration.ofSeconds(27L * i))));
        }
        Sweeper sweeper = new Sweeper(List.of(Sweeper.Task.of("refresh_tokens", now -> store.grants().removeExpired(now, Integer.MAX_VALUE).size())), clock);
        sweeper.start(Duration.ofMillis(1));
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(chains);
        List<Future<Integer>> fs = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(chains);
        try {
            for (int i = 0; i < chains; i++) {
                int ii = i;
                fs.add(pool.submit(() -> {
                    started.countDown();
                    int n = 0;
                    while (!stop.get()) {
                        Rotation r = rotate(current[ii], "c", clock.instant());
                        assertEquals(Outcome.ROTATED, r.outcome(), "a live chain is never swept");
                        current[ii] = r.refreshToken();
                        n++;
                    }
                    return n;
                }));
            }
            assertTrue(started.await(10, TimeUnit.SECONDS));
            // run until fake time is past the last abandoned family's expiry, and the sweeper has removed them all
            Instant lastExpiry = T0.minus(Duration.ofMinutes(58)).plus(Duration.ofSeconds(27L * 39)).plus(TTL);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (abandoned.stream().anyMatch(t -> familyOf(t) != null) || clock.instant().isBefore(lastExpiry)) {
                assertTrue(System.nanoTime() < deadline, "the sweeper did not remove the expired families in time");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // poll the condition above, bounded by the deadline
            }
        } finally {
            stop.set(true);
            int total = 0;
            for (Future<Integer> f : fs) total += f.get(30, TimeUnit.SECONDS);
            pool.shutdown();
            sweeper.close();
            assertTrue(total > chains, "rotations happened during the race: " + total);
        }
        reopen();
        assertEquals(chains, tokens.size(), "only the rotated chains survive on disk: no expired family survives");
        for (String t : current) {
            assertTrue(isCurrent(familyOf(t), t), "the last acknowledged rotation of each chain is on disk");
        }
    }
}
