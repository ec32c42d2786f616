package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault run: a child JVM ({@link FaultRunChild}) writes through a {@link FileStore} from six threads (refresh-token
 * rotations, grants and their revocation, puts into a snapshot file) while this test injects, one after the other:
 * a full disk (a real one on a tmpfs when it can be mounted, else ENOSPC from FileOps), EIO on every fsync, a data
 * file deleted and another damaged in place, and at last the data directory replaced by an empty one. Between faults
 * the writers are paused and health must come back by itself. Then kill -9, and the data is checked: every
 * acknowledged write is there, nothing refused is, the child never saw a retry do something other than what the
 * refused attempt should have done, and a start with a data file missing is refused.
 */
class FaultRunTest {
    private static final Duration STEP = Duration.ofSeconds(45); // generous: the machine may be busy with other tests

    @TempDir
    Path tmp;

    /** What the child said, applied line by line. */
    static final class Ledger {
        final Map<String, List<String>> chains = new LinkedHashMap<>(); // family -> acknowledged tokens
        final Map<String, Boolean> rotating = new HashMap<>();          // family -> rotation in flight
        final Map<String, String> puts = new LinkedHashMap<>();          // key -> BEGUN, ACK, FAIL
        final Map<String, String> grants = new LinkedHashMap<>();        // family -> ACTIVE, REVOKING, REVOKED
        final Map<String, String> grantTokens = new HashMap<>();
        boolean grantInFlight;
        int acks;
        int fails;
        final List<String> wrong = new ArrayList<>();
        String health = "ok";

        void apply(String l) {
            if (!l.endsWith(" $")) return; // cut short by SIGKILL
            String[] p = l.substring(0, l.length() - 2).split(" ", 3);
            switch (p[0]) {
                case "CREATED" -> chains.computeIfAbsent(RefreshTokens.familyIdOf(p[1]), k -> new ArrayList<>()).add(p[1]);
                case "BEGIN" -> rotating.put(RefreshTokens.familyIdOf(p[1]), true);
                case "ACK" -> {
                    String f = RefreshTokens.familyIdOf(p[1]);
                    List<String> c = chains.get(f);
                    assertEquals(c.get(c.size() - 1), p[1], "rotations of a family start from its newest token");
                    c.add(p[2].split(" ")[0]);
                    rotating.put(f, false);
                    acks++;
                }
                case "FAIL" -> {
                    rotating.put(RefreshTokens.familyIdOf(p[1]), false);
                    fails++;
                }
                case "PUT" -> puts.put(p[1], "BEGUN");
                case "PUT-ACK" -> {
                    puts.put(p[1], "ACK");
                    acks++;
                }
                case "PUT-FAIL" -> {
                    puts.put(p[1], "FAIL");
                    fails++;
                }
                case "GRANT" -> grantInFlight = true;
                case "GRANT-ACK" -> {
                    String[] q = p[2].split(" ");
                    grants.put(p[1], "ACTIVE");
                    grantTokens.put(p[1], q[0]);
                    grantInFlight = false;
                    acks++;
                }
                case "GRANT-FAIL" -> {
                    grantInFlight = false;
                    fails++;
                }
                case "REV" -> grants.put(p[1], "REVOKING");
                case "REV-ACK" -> {
                    grants.put(p[1], "REVOKED");
                    acks++;
                }
                case "REV-FAIL" -> {
                    grants.put(p[1], "ACTIVE");
                    fails++;
                }
                case "WRONG" -> wrong.add(l);
                case "HEALTH" -> health = p.length > 2 ? p[1] + " " + p[2] : p[1];
                default -> { }
            }
        }
    }

    private ChildJvm child;
    private final Ledger ledger = new Ledger();
    private final List<String> failReasons = new ArrayList<>();

    private void send(String command) throws IOException {
        OutputStream in = child.process.getOutputStream();
        in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Reads and applies lines until {@code which} holds for the ledger (checked after every line). */
    private void until(String what, Predicate<Ledger> which) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (!which.test(ledger)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("not within " + STEP + ": " + what + " (health " + ledger.health + ")\nlast lines:\n" + child.lastLines(20)
                        + "\nstderr:\n" + child.stderrText() + "\nthreads:\n" + child.threadDump());
            }
            String l = child.nextLine(Duration.ofNanos(left));
            if (l == null) fail("the child ended while waiting for: " + what + "\nstderr:\n" + child.stderrText());
            ledger.apply(l);
            if (l.startsWith("FAIL") || l.contains("-FAIL")) failReasons.add(l);
            if (!ledger.wrong.isEmpty()) fail("the child saw a retry go wrong: " + ledger.wrong);
        }
    }

    @Test
    @Timeout(value = 120)
    void underLoadEveryFaultIsRefusedCleanlyHealthComesBackAndKill9LosesNothingAcknowledged() throws Exception {
        long started = System.nanoTime();
        try (Tmpfs fs = Boolean.getBoolean("store.faultrun.noTmpfs") ? Tmpfs.none(tmp.resolve("mnt"), "store.faultrun.noTmpfs is set")
                : Tmpfs.mount(tmp.resolve("mnt"), "16m")) {
            Path base = fs.mounted() ? fs.dir : tmp;
            Path data = base.resolve("data");
            System.out.println(fs.mounted() ? "Fault run: a real full disk (tmpfs)" : "Fault run: no tmpfs (" + fs.why + "); disk full is injected through FileOps");
            child = ChildJvm.start(tmp.resolve("child.err"), null, "faults", data.toString());
            try {
                run(fs, data, base);
            } finally {
                child.close();
            }
            verify(data);
        }
        System.out.printf("Fault run: %d acknowledged, %d refused, %.1f s%n", ledger.acks, ledger.fails, (System.nanoTime() - started) / 1e9);
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(150).toNanos(), "the fault run is meant to take well under a minute on an idle machine");
    }

    private void run(Tmpfs fs, Path data, Path base) throws Exception {
        until("the child is ready", l -> l.chains.size() >= FaultRunChild.FAMILIES);
        int acks0 = ledger.acks;
        until("some load", l -> l.acks >= acks0 + 300);

        // 1. disk full
        int fails0 = ledger.fails;
        Path filler = null;
        if (fs.mounted()) filler = fs.fill();
        else send("fault enospc");
        until("writes refused for a full disk", l -> l.fails >= fails0 + 20 && l.health.startsWith("failing"));
        assertTrue(failReasons.stream().anyMatch(r -> r.contains("No space left on device")), String.valueOf(failReasons));
        pause();
        if (filler != null) Files.delete(filler);
        else send("fault none");
        until("health back by itself after the disk full (no writer runs)", l -> l.health.equals("ok"));
        resume();
        int acks1 = ledger.acks;
        until("load again", l -> l.acks >= acks1 + 150);

        // 2. EIO on every fsync
        int fails1 = ledger.fails;
        send("fault eio");
        until("writes refused for EIO", l -> l.fails >= fails1 + 20 && l.health.startsWith("failing"));
        pause();
        send("fault none");
        until("health back by itself after EIO", l -> l.health.equals("ok"));
        resume();
        int acks2 = ledger.acks;
        until("load again", l -> l.acks >= acks2 + 150);

        // 3. a data file deleted, another damaged in place, under the running server
        pause();
        Files.delete(data.resolve("things.json"));
        Path snapshot = data.resolve(FileStores.REFRESH_TOKENS);
        byte[] b = Files.readAllBytes(snapshot);
        b[b.length / 2] ^= 0x20;
        Files.write(snapshot, b);
        SnapshotFormat format = new SnapshotFormat();
        Await.until(STEP, () -> {
            try {
                format.decode(Files.readAllBytes(data.resolve("things.json")), "things");
                format.decode(Files.readAllBytes(snapshot), "refresh_tokens");
                return true;
            } catch (IOException | SnapshotFormat.Corrupt e) {
                return false;
            }
        }, () -> "the deleted and the damaged file were not written again from memory");
        until("healthy after the repair", l -> l.health.equals("ok"));
        resume();
        int acks3 = ledger.acks;
        until("load again", l -> l.acks >= acks3 + 150);

        // 4. the data directory replaced by an empty one (rm -rf and mkdir, but the old one kept to check it afterwards)
        pause();
        Path moved = base.resolve("data.moved");
        Files.move(data, moved);
        Files.createDirectory(data);
        int acks4 = ledger.acks;
        int fails4 = ledger.fails;
        resume();
        until("every write refused once the directory is gone", l -> l.fails >= fails4 + 20
                && l.health.startsWith("failing") && l.health.contains("data directory"));
        assertEquals(acks4, ledger.acks, "nothing is acknowledged after the data directory was replaced");
        child.kill();
        for (String l : child.drain(Duration.ofSeconds(10))) ledger.apply(l);
        assertEquals(acks4, ledger.acks, "nothing is acknowledged after the data directory was replaced");
        assertTrue(ledger.wrong.isEmpty(), String.valueOf(ledger.wrong));
        try (Stream<Path> s = Files.list(data)) {
            assertEquals(List.of(), s.toList(), "the server wrote nothing into the directory that replaced its own");
        }
        Files.delete(data);
        Files.move(moved, data);
    }

    private void pause() throws Exception {
        send("pause");
        untilLine("PAUSED $");
    }

    private void resume() throws Exception {
        send("resume");
        untilLine("RESUMED $");
    }

    private void untilLine(String exact) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("no '" + exact + "' within " + STEP + "\nlast lines:\n" + child.lastLines(20) + "\nstderr:\n" + child.stderrText()
                        + "\nthreads:\n" + child.threadDump());
            }
            String l = child.nextLine(Duration.ofNanos(left));
            if (l == null) fail("the child ended while waiting for '" + exact + "'\nstderr:\n" + child.stderrText());
            ledger.apply(l);
            if (l.startsWith("FAIL") || l.contains("-FAIL")) failReasons.add(l);
            if (l.equals(exact)) return;
        }
    }

    private void verify(Path data) {
        Instant now = Instant.now();
        try (FileStore store = FileStore.open(data)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), StoreChild.TTL);
            DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            for (Map.Entry<String, List<String>> e : ledger.chains.entrySet()) {
                RefreshFamily f = tokens.get(e.getKey());
                assertNotNull(f, "family " + e.getKey() + " is lost");
                List<String> chain = e.getValue();
                int k = chain.size() - 1;
                boolean inFlight = ledger.rotating.getOrDefault(e.getKey(), false);
                String ctx = "family " + e.getKey() + ": " + k + " acknowledged rotations" + (inFlight ? " and one in flight" : "")
                        + ", " + f.rotations() + " on disk";
                assertTrue(f.rotations() == k || inFlight && f.rotations() == k + 1, "only acknowledged rotations are on disk: " + ctx);
                assertNotNull(tokens.find(chain.get(k), now), "the newest acknowledged token works: " + ctx);
                if (!inFlight) assertEquals(Secrets.hash(chain.get(k)), f.tokenHash(), ctx);
            }
            int puts = 0;
            for (Map.Entry<String, String> e : ledger.puts.entrySet()) {
                switch (e.getValue()) {
                    case "ACK" -> {
                        assertNotNull(things.get(e.getKey()), "acknowledged put " + e.getKey() + " is lost");
                        puts++;
                    }
                    case "FAIL" -> assertNull(things.get(e.getKey()), "refused put " + e.getKey() + " is there");
                    default -> { } // in flight at the kill: either
                }
            }
            int active = 0;
            for (Map.Entry<String, String> e : ledger.grants.entrySet()) {
                switch (e.getValue()) {
                    case "REVOKED" -> assertNull(tokens.get(e.getKey()), "revoked grant " + e.getKey() + " came back");
                    case "ACTIVE" -> {
                        assertNotNull(tokens.find(ledger.grantTokens.get(e.getKey()), now), "grant " + e.getKey() + " (revocation refused) is lost");
                        active++;
                    }
                    default -> { } // revocation in flight
                }
            }
            long revoking = ledger.grants.values().stream().filter("REVOKING"::equals).count();
            int expected = ledger.chains.size() + active;
            assertTrue(tokens.size() >= expected && tokens.size() <= expected + revoking + (ledger.grantInFlight ? 1 : 0),
                    "no refused grant is there: " + tokens.size() + " families, expected " + expected + " (+" + revoking + " revoking, "
                            + ledger.grantInFlight + " granting)");
            assertTrue(store.healthy(), String.valueOf(store.health()));
            assertTrue(puts > 20 && ledger.fails > 20, "the run did real work: " + puts + " puts, " + ledger.fails + " refused");
        }
        // no silent start: a data file missing (and its .prev) refuses the start
        try {
            Files.delete(data.resolve("things.json"));
            Files.delete(data.resolve("things.json.prev"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        try (FileStore store = FileStore.open(data)) {
            StoreException e = assertThrows(StoreException.class, () -> store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE));
            assertFalse(e.unavailable());
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
    }
}
