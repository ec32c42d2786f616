package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.StoreChild.say;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The child of {@link FaultRunTest}: writer threads on a {@link FileStore} (refresh-token rotations, revocations, puts
 * into a snapshot file) printing what they begin and how it ended, while the parent switches faults through stdin:
 * {@code fault enospc|eio|none}, {@code pause} (every writer parked: {@code PAUSED $}), {@code resume}. Health changes
 * are printed as {@code HEALTH ok $} / {@code HEALTH failing <problems> $}.
 *
 * <p>Lines: {@code CREATED token}, {@code BEGIN old} then {@code ACK old new} or {@code FAIL old reason};
 * {@code PUT k} then {@code PUT-ACK k} or {@code PUT-FAIL k}; {@code GRANT token} then {@code GRANT-ACK family} or
 * {@code GRANT-FAIL}; {@code REV family} then {@code REV-ACK family} or {@code REV-FAIL family}; {@code WRONG ...} when
 * a retry did not do what the refused attempt should have done.
 */
final class FaultRunChild {
    static final int FAMILIES = 8;
    static final int ROTATORS = 4;

    private FaultRunChild() {}

    /** POSIX, failing on demand: ENOSPC for new data, or EIO for every fsync. */
    static final class Faults implements FileOps {
        volatile String mode = "none";

        private void check(boolean sync) throws IOException {
            String m = mode;
            if (m.equals("enospc")) throw new IOException("No space left on device");
            if (m.equals("eio") && sync) throw new IOException("Input/output error");
        }

        @Override
        public void writeNewAndSync(Path file, byte[] data) throws IOException {
            check(true);
            POSIX.writeNewAndSync(file, data);
        }

        @Override
        public void atomicMove(Path source, Path target) throws IOException {
            POSIX.atomicMove(source, target);
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            check(true);
            POSIX.syncDirectory(dir);
        }

        @Override
        public void replaceHardLink(Path link, Path existing) throws IOException {
            POSIX.replaceHardLink(link, existing);
        }

        @Override
        public void deleteIfExists(Path file) throws IOException {
            POSIX.deleteIfExists(file);
        }

        @Override
        public void forceData(FileChannel channel) throws IOException {
            check(true);
            POSIX.forceData(channel);
        }

        @Override
        public FileChannel createSegment(Path file) throws IOException {
            check(false);
            return POSIX.createSegment(file);
        }
    }

    /**
     * Writers pass it before every operation; {@code pause} parks them all. Parked writers wait for {@code resume} only
     * and wake nobody: the last one to park tells {@code pause}, once. (An earlier version had every parked writer call
     * notifyAll each time it woke up, so parked writers woke one another forever, a livelock that kept both cores busy
     * while paused and starved the thread in pause() of the monitor for minutes under load.)
     */
    static final class Gate {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition resumed = lock.newCondition();
        private final Condition allParked = lock.newCondition();
        private final int writers;
        private boolean paused;
        private int parked;
        private long wakeUps; // of parked writers, for GateTest

        Gate(int writers) {
            this.writers = writers;
        }

        void pass() throws InterruptedException {
            lock.lock();
            try {
                if (!paused) return;
                if (++parked == writers) allParked.signal();
                try {
                    while (paused) {
                        resumed.await();
                        wakeUps++;
                    }
                } finally {
                    parked--;
                }
            } finally {
                lock.unlock();
            }
        }

        /** After a refused write: wait a little (or until resumed) instead of spinning. */
        void backOff() throws InterruptedException {
            lock.lock();
            try {
                resumed.await(10, TimeUnit.MILLISECONDS);
            } finally {
                lock.unlock();
            }
        }

        void pause() throws InterruptedException {
            lock.lock();
            try {
                paused = true;
                while (parked < writers) allParked.await();
            } finally {
                lock.unlock();
            }
        }

        void resume() {
            lock.lock();
            try {
                paused = false;
                resumed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        long wakeUps() {
            lock.lock();
            try {
                return wakeUps;
            } finally {
                lock.unlock();
            }
        }

        int parked() {
            lock.lock();
            try {
                return parked;
            } finally {
                lock.unlock();
            }
        }
    }

    static void run(Path dir) throws Exception {
        Faults faults = new Faults();
        FileStore.Tuning tuning = new FileStore.Tuning();
        tuning.probeMillis = 100;
        tuning.minCompactBytes = 64 * 1024; // compactions happen during the run too
        FileStore store = FileStore.open(dir, faults, tuning);
        RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), StoreChild.TTL);
        DurableMap<String> things = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
        String[] current = new String[FAMILIES];
        for (int i = 0; i < FAMILIES; i++) {
            current[i] = tokens.create("client-" + i, "user-" + i, "mcp", null, true, Instant.now()).refreshToken();
            say("CREATED " + current[i]);
        }
        Gate gate = new Gate(ROTATORS + 2);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < ROTATORS; t++) {
            int first = t;
            workers.add(new Thread(() -> {
                try {
                    while (true) {
                        for (int i = first; i < FAMILIES; i += ROTATORS) {
                            gate.pass();
                            String old = current[i];
                            say("BEGIN " + old);
                            try {
                                RefreshTokens.Rotation r = tokens.rotate(old, "client-" + i, Instant.now(), f -> { });
                                if (r.outcome() != RefreshTokens.Outcome.ROTATED) {
                                    say("WRONG rotating " + old + " gave " + r.outcome() + " (a refused rotation was not rolled back?)");
                                    return;
                                }
                                current[i] = r.refreshToken();
                                say("ACK " + old + " " + r.refreshToken());
                            } catch (StoreException e) {
                                say("FAIL " + old + " " + oneLine(e.getMessage()));
                                gate.backOff();
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "rotator-" + t));
        }
        AtomicLong keys = new AtomicLong();
        workers.add(new Thread(() -> {
            try {
                while (true) {
                    gate.pass();
                    String k = "k" + keys.incrementAndGet();
                    say("PUT " + k);
                    try {
                        Maps.put(things, k, "v");
                        say("PUT-ACK " + k);
                    } catch (StoreException e) {
                        say("PUT-FAIL " + k + " " + oneLine(e.getMessage()));
                        gate.backOff();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "putter"));
        workers.add(new Thread(() -> {
            try {
                while (true) {
                    gate.pass();
                    RefreshTokens.Issued grant;
                    say("GRANT");
                    try {
                        grant = tokens.create("client-r", "user-r", "mcp", null, true, Instant.now());
                        say("GRANT-ACK " + grant.family().familyId() + " " + grant.refreshToken());
                    } catch (StoreException e) {
                        say("GRANT-FAIL " + oneLine(e.getMessage()));
                        gate.backOff();
                        continue;
                    }
                    String family = grant.family().familyId();
                    while (true) {
                        gate.pass();
                        say("REV " + family);
                        try {
                            if (!tokens.revoke(family)) {
                                say("WRONG revoking " + family + " found nothing to revoke (a refused revocation was not rolled back?)");
                                return;
                            }
                            say("REV-ACK " + family);
                            break;
                        } catch (StoreException e) {
                            say("REV-FAIL " + family + " " + oneLine(e.getMessage()));
                            gate.backOff();
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "revoker"));
        Thread health = new Thread(() -> {
            String last = null;
            Object tick = new Object();
            try {
                while (true) {
                    FileStore.Health h = store.health();
                    String now = h.healthy() ? "ok" : "failing " + oneLine(String.join(" | ", h.problems()));
                    if (!now.equals(last)) say("HEALTH " + now);
                    last = now;
                    synchronized (tick) {
                        tick.wait(20);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "health");
        health.setDaemon(true);
        for (Thread w : workers) w.setDaemon(true);
        workers.forEach(Thread::start);
        health.start();
        say("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] p = line.trim().split(" ");
            switch (p[0]) {
                case "fault" -> {
                    faults.mode = p[1];
                    say("FAULT " + p[1]);
                }
                case "pause" -> {
                    gate.pause();
                    say("PAUSED");
                }
                case "resume" -> {
                    gate.resume();
                    say("RESUMED");
                }
                default -> say("UNKNOWN " + line);
            }
        }
        // stdin closed: the parent is gone; exit without a clean close (as if killed)
        Runtime.getRuntime().halt(0);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('$', '_');
    }
}
