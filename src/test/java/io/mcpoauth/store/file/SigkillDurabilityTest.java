package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.RefreshFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at a random moment while many threads rotate refresh tokens in a child JVM; then reopen and check that
 * every acknowledged rotation is on disk and nothing superseded came back. Repeated over 20+ rounds on the same
 * data directory, so every round also proves that a restart after kill -9 works (the kernel freed the lock, the
 * leftover temp file of the interrupted write is cleaned up, the file parses).
 *
 * <p>What this can catch: acknowledging before the write (snapshot rename or journal append) happened, a group commit
 * that wakes a waiter whose change is not in the written snapshot or frame, writing in place (a torn file is seen
 * after the kill), a torn journal frame that is not cut off cleanly at restart, a stale snapshot or a compaction
 * overwriting newer changes, replay in the wrong order, a lock that survives its holder, a restart that trips over a
 * leftover temp file. What it cannot catch: a missing or misplaced fsync/fdatasync. SIGKILL ends the process but not
 * the kernel, so data that was written but never synced is still in the page cache and is read back intact; only a
 * power cut (or a fault injector such as dm-flakey / LazyFS) loses it. The sync order is asserted by
 * {@link WriteOrderTest} with a recording {@link FileOps}; sync failures by {@link FsyncFailureTest}.
 *
 * <p>The rule checked for each family (one writer thread per family in the child, so a family's history is a chain
 * {@code t0 -> t1 -> ... -> tk} of acknowledged rotations, possibly followed by an unacknowledged {@code BEGIN tk}):
 * a rotated-out token stays valid as "previous" until its successor has been used, so a token is <em>consumed</em>
 * only once its successor was presented in an acknowledged rotation. Hence
 * <ul>
 *   <li>{@code tk} works (current; or previous when the in-flight rotation of {@code tk} reached the disk);</li>
 *   <li>{@code t(k-1)} is exactly the previous token if no rotation of {@code tk} began; if one was in flight, it is
 *       either previous or dead (indeterminate), but never current;</li>
 *   <li>{@code t0 .. t(k-2)} are dead (consumed) and never current;</li>
 *   <li>the family's rotation count is {@code k}, or {@code k+1} only when a rotation was in flight;</li>
 *   <li>after the first reopen the state of a family never changes again (later rounds do not touch it).</li>
 * </ul>
 */
class SigkillDurabilityTest {
    private static final int ROUNDS = Integer.getInteger("store.sigkill.rounds", 20);
    private static final int FAMILIES = 12;
    private static final int THREADS = 6;

    /** One family's history as seen on the child's stdout. */
    private static final class Chain {
        final String familyId;
        final List<String> tokens = new ArrayList<>();
        final int round;
        boolean inFlight;
        Long settledRotations; // the count seen at the first reopen

        Chain(String familyId, String first, int round) {
            this.familyId = familyId;
            this.round = round;
            tokens.add(first);
        }
    }

    @Test
    @Timeout(value = 240)
    void acknowledgedRotationsSurviveSigkill(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("data");
        long seed = Long.getLong("store.sigkill.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Map<String, Chain> chains = new LinkedHashMap<>();
        int totalAcks = 0;
        int roundsWithLeftoverTemp = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(200).toNanos();

        for (int round = 0; round < ROUNDS; round++) {
            assertTrue(System.nanoTime() < deadline, "rounds are taking too long (seed " + seed + ")");
            // kill during the creation phase now and then, otherwise somewhere in the rotations
            int killAfter = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(FAMILIES + 20) : 20 + rnd.nextInt(600);
            List<String> lines = new ArrayList<>();
            try (ChildJvm child = ChildJvm.start(tmp.resolve("child-" + round + ".err"), null,
                    "rotate", dir.toString(), String.valueOf(FAMILIES), String.valueOf(THREADS))) {
                int acks = 0;
                while (acks < killAfter) {
                    String l = child.nextLine(Duration.ofSeconds(60));
                    if (l == null) fail("the child ended before it was killed (exit " + child.process.exitValue() + "):\n" + child.stderrText());
                    lines.add(l);
                    if (l.startsWith("FAILED")) fail("the child failed: " + l + "\n" + child.stderrText());
                    if (l.startsWith("ACK ") || l.startsWith("CREATED ")) acks++;
                }
                child.kill();
                lines.addAll(child.drain(Duration.ofSeconds(10))); // acknowledged lines still in the pipe count too
            }
            totalAcks += apply(lines, chains, round);

            boolean leftover = hasTemp(dir);
            if (leftover) roundsWithLeftoverTemp++;
            try (FileStore store = FileStore.open(dir)) {
                RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), StoreChild.TTL);
                assertFalse(hasTemp(dir), "leftover temp files are removed at open");
                for (Chain c : chains.values()) check(c, tokens, "round " + round + " (seed " + seed + ")");
                assertTrue(store.healthy());
            }
        }
        System.out.printf("SIGKILL test: %d rounds, %d families, %d acknowledged operations, %d rounds left a snapshot temp file (seed %d)%n",
                ROUNDS, chains.size(), totalAcks, roundsWithLeftoverTemp, seed);
        assertTrue(chains.size() >= ROUNDS, "families were created in every round");
    }

    /** Applies complete lines (those ending with " $") to the chains; returns the acknowledged operations. */
    private static int apply(List<String> lines, Map<String, Chain> chains, int round) {
        int acks = 0;
        for (String l : lines) {
            if (!l.endsWith(" $")) continue; // cut short by SIGKILL: nothing was promised by it
            String[] p = l.substring(0, l.length() - 2).split(" ");
            switch (p[0]) {
                case "CREATED" -> {
                    String id = RefreshTokens.familyIdOf(p[1]);
                    chains.put(id, new Chain(id, p[1], round));
                    acks++;
                }
                case "BEGIN" -> {
                    Chain c = chains.get(RefreshTokens.familyIdOf(p[1]));
                    if (c == null) continue; // its CREATED line was cut short
                    assertEquals(last(c), p[1], "the child rotates each family from one thread, with its newest token");
                    c.inFlight = true;
                }
                case "ACK" -> {
                    Chain c = chains.get(RefreshTokens.familyIdOf(p[1]));
                    if (c == null) continue;
                    assertEquals(last(c), p[1]);
                    c.tokens.add(p[2]);
                    c.inFlight = false;
                    acks++;
                }
                default -> fail("unexpected line from the child: " + l);
            }
        }
        return acks;
    }

    private static void check(Chain c, RefreshTokens tokens, String where) {
        Instant now = Instant.now();
        RefreshFamily f = tokens.get(c.familyId);
        String ctx = where + ", family " + c.familyId + " (created in round " + c.round
                + (c.settledRotations == null ? "" : ", seen with " + c.settledRotations + " rotations at an earlier restart") + ") with "
                + (c.tokens.size() - 1) + " acknowledged rotations" + (c.inFlight ? " and one in flight" : "");
        assertNotNull(f, "an acknowledged family is on disk: " + ctx);
        int k = c.tokens.size() - 1;
        ctx += "; on disk: " + f.rotations() + " rotations, current = token " + indexOf(c, f.tokenHash())
                + ", previous = token " + indexOf(c, f.previousHash()) + " (-1: not a token the parent saw acknowledged)";
        String newest = c.tokens.get(k);

        assertNotNull(tokens.find(newest, now), "the newest acknowledged token works: " + ctx);
        if (!c.inFlight) assertTrue(isCurrent(f, newest), "with nothing in flight the newest token is current: " + ctx);
        if (k >= 1) {
            String before = c.tokens.get(k - 1);
            assertFalse(isCurrent(f, before), "a token presented in an acknowledged rotation is never current again: " + ctx);
            if (!c.inFlight) {
                assertTrue(isPrevious(f, before), "the previous token stays valid until its successor is used: " + ctx);
            } else if (tokens.find(before, now) != null) {
                assertTrue(isCurrent(f, newest), "previous is valid only while the newest token is unused: " + ctx);
            }
        }
        for (int j = 0; j <= k - 2; j++) {
            String consumed = c.tokens.get(j);
            assertNull(tokens.find(consumed, now), "token " + j + " was consumed by acknowledged rotation " + (j + 2) + " and must be dead: " + ctx);
        }
        long rotations = f.rotations();
        assertTrue(rotations == k || c.inFlight && rotations == k + 1,
                "rotation count " + rotations + " must be " + k + (c.inFlight ? " or " + (k + 1) : "") + ": " + ctx);
        if (c.settledRotations == null) {
            c.settledRotations = rotations;
        } else {
            assertEquals(c.settledRotations, rotations, "a family nobody touched is unchanged by later restarts: " + ctx);
        }
    }

    private static boolean isCurrent(RefreshFamily f, String token) {
        return Secrets.hash(token).equals(f.tokenHash());
    }

    private static boolean isPrevious(RefreshFamily f, String token) {
        return Secrets.hash(token).equals(f.previousHash());
    }

    private static int indexOf(Chain c, String hash) {
        for (int i = 0; i < c.tokens.size(); i++) {
            if (Secrets.hash(c.tokens.get(i)).equals(hash)) return i;
        }
        return -1;
    }

    private static String last(Chain c) {
        return c.tokens.get(c.tokens.size() - 1);
    }

    private static boolean hasTemp(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(SnapshotWriter.TMP_PREFIX));
        }
    }
}
