package io.mcpoauth.store.file;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.StoreException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The child process of the multi-process store tests (a main class in test sources, started by {@link ChildJvm}).
 * Every line it prints ends with " $" so that a line cut short by SIGKILL is recognisable.
 *
 * <ul>
 *   <li>{@code rotate <dir> <families> <threads>}: creates families ({@code CREATED token $}), then rotates them from
 *       {@code threads} threads, each owning every {@code threads}-th family, printing {@code BEGIN old $} before and
 *       {@code ACK old new $} after each durable rotation, until killed.</li>
 *   <li>{@code hold <dir>}: opens the store, prints {@code HELD pid $}, keeps it until stdin closes.</li>
 *   <li>{@code write <dir>}: opens the store, writes each file twice (so {@code .prev} exists), closes, prints {@code DONE $}.</li>
 *   <li>{@code open <dir>}: prints {@code OPENED $} (exit 0) or {@code REFUSED message $} (exit 3).</li>
 *   <li>{@code load <dir>}: opens the store and {@code things.json}, prints {@code OPENED n $} or {@code REFUSED message $} (exit 3).</li>
 *   <li>{@code recover <dir>}: runs {@code store recover}, prints {@code REPORT line $} per line, then {@code NOT-RECOVERED names $}.</li>
 *   <li>{@code faults <dir>}: the fault run (see {@link FaultRunTest}): writers under load, faults switched by commands on stdin.</li>
 * </ul>
 */
public final class StoreChild {
    static final Duration TTL = Duration.ofDays(1);
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    private StoreChild() {}

    static synchronized void say(String line) {
        OUT.println(line + " $");
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        switch (args[0]) {
            case "rotate" -> rotate(dir, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "hold" -> hold(dir);
            case "write" -> write(dir);
            case "open" -> open(dir);
            case "load" -> load(dir);
            case "faults" -> FaultRunChild.run(dir);
            case "recover" -> {
                List<String> failed = new Recovery().recover(dir, List.of(), l -> say("REPORT " + l.replace('\n', ' ')));
                say("NOT-RECOVERED " + String.join(",", failed));
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void rotate(Path dir, int families, int threads) throws InterruptedException {
        FileStore store = FileStore.open(dir);
        RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
        String[] current = new String[families];
        for (int i = 0; i < families; i++) {
            current[i] = tokens.create("client-" + i, "user-" + i, "mcp", null, true, Instant.now()).refreshToken();
            say("CREATED " + current[i]);
        }
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Thread w = new Thread(() -> {
                try {
                    while (true) {
                        for (int i = first; i < families; i += threads) {
                            String old = current[i];
                            say("BEGIN " + old);
                            RefreshTokens.Rotation r = tokens.rotate(old, "client-" + i, Instant.now(), f -> {});
                            if (r.outcome() != RefreshTokens.Outcome.ROTATED) {
                                say("FAILED " + old + " " + r.outcome());
                                System.exit(2);
                            }
                            current[i] = r.refreshToken();
                            say("ACK " + old + " " + r.refreshToken());
                        }
                    }
                } catch (RuntimeException e) {
                    e.printStackTrace();
                    say("FAILED " + e);
                    System.exit(2);
                }
            }, "rotator-" + t);
            workers.add(w);
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) w.join();
    }

    private static void hold(Path dir) throws IOException {
        try (FileStore store = FileStore.open(dir)) {
            FileStores.clients(store);
            new RefreshTokens(FileStores.grants(store), TTL);
            say("HELD " + ProcessHandle.current().pid());
            while (System.in.read() >= 0) {
                // hold the lock until the parent closes our stdin or kills us
            }
        }
    }

    private static void write(Path dir) {
        try (FileStore store = FileStore.open(dir)) {
            ClientStore clients = FileStores.clients(store);
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            Instant now = Instant.now();
            for (int i = 0; i < 2; i++) {
                clients.put(new ClientRecord("client-" + i, "Client " + i, List.of("http://127.0.0.1:" + (8000 + i) + "/cb"),
                        List.of("authorization_code", "refresh_token"), List.of("code"), "none", "mcp", null, null, null, now, null, null, null));
                tokens.create("client-" + i, "user", "mcp", null, true, now);
            }
        }
        say("DONE");
    }

    private static void load(Path dir) {
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<String> m = store.map("things.json", "things", String.class, SnapshotFormat.Layout.ONE_LINE);
            say("OPENED " + m.size());
        } catch (StoreException e) {
            say("REFUSED " + e.getMessage().replace('\n', ' '));
            System.exit(3);
        }
    }

    private static void open(Path dir) {
        try (FileStore store = FileStore.open(dir)) {
            say("OPENED");
        } catch (StoreException e) {
            say("REFUSED " + e.getMessage().replace('\n', ' '));
            System.exit(3);
        }
    }
}
