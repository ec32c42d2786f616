package io.mcpoauth.bench;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.file.DurableMap;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.file.SnapshotFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The server over plain HTTP on loopback, started by this program as a child JVM on seeded data:
 * <ol>
 * <li>the restart herd: every client holds an access token from before the restart; it calls {@code whoami} (401),
 * refreshes, and calls again (200); then the server is killed with SIGKILL and every acknowledged rotation is
 * looked for on disk;</li>
 * <li>durable refresh rotation alone, each chain continuing with the rotated token;</li>
 * <li>steady state: authenticated {@code tools/call whoami} against {@code /healthz}, same connections, same run;</li>
 * <li>cold start (spawn to the first 200 on {@code /healthz}) and heap after a full GC.</li>
 * </ol>
 * Writes {@code bench/results/http.md}.
 *
 * Then the restart and the small-data runs again with the server's JIT limited to C1 ({@code bench.c1=false} skips).
 * About two minutes in all.
 *
 * <p>System properties: {@code bench.quick=true} (a short run: 10k/20k families, 2,000 reconnects, short phases);
 * {@code bench.families} (small,large: 10000,100000), {@code bench.herd} (10000), {@code bench.herd.concurrency}
 * (200), {@code bench.rotate.connections} (32), {@code bench.rotate.seconds} (15), {@code bench.warmup} (5),
 * {@code bench.steady.connections} (64), {@code bench.steady.seconds} (5 per phase, 2 phases each),
 * {@code bench.server.heap} (1g), {@code bench.http.dir} (target/httpbench), {@code bench.http.out}
 * (bench/results/http.md, or http-quick.md in quick mode; "-" for stdout only), {@code bench.jfr=true} (a flight recording per server start, in
 * bench.http.dir), {@code bench.c1}, {@code bench.note} (a line added to the results, e.g. the commit measured).
 */
public final class HttpBench {
    private static final Duration TTL = Duration.ofDays(30);
    private static final String HOST = "127.0.0.1";
    private static final String WHOAMI = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
    private static final String MCP_HEADERS = "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n";

    private HttpBench() {}

    // ---- settings ----

    private static final boolean QUICK = Boolean.getBoolean("bench.quick");
    private static final int[] FAMILIES = Arrays.stream(System.getProperty("bench.families", QUICK ? "10000,20000" : "10000,100000")
            .split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    private static final int HERD = Integer.getInteger("bench.herd", QUICK ? 2_000 : 10_000);
    private static final int HERD_CONCURRENCY = Integer.getInteger("bench.herd.concurrency", 200);
    private static final int ROTATE_CONNECTIONS = Integer.getInteger("bench.rotate.connections", 32);
    private static final double ROTATE_SECONDS = Double.parseDouble(System.getProperty("bench.rotate.seconds", QUICK ? "4" : "15"));
    private static final double WARMUP = Double.parseDouble(System.getProperty("bench.warmup", QUICK ? "2" : "5"));
    private static final int STEADY_CONNECTIONS = Integer.getInteger("bench.steady.connections", 64);
    private static final double STEADY_SECONDS = Double.parseDouble(System.getProperty("bench.steady.seconds", QUICK ? "2" : "5"));
    private static final String SERVER_HEAP = System.getProperty("bench.server.heap", "1g");
    private static final boolean JFR = Boolean.getBoolean("bench.jfr");
    private static final String NOTE = System.getProperty("bench.note", "");
    private static final boolean C1 = Boolean.parseBoolean(System.getProperty("bench.c1", "true"));
    private static final List<String> C1_FLAGS = List.of("-XX:TieredStopAtLevel=1");

    // ---- data ----

    /** A seeded data directory: family i belongs to client i mod clients and to that client's user. */
    static final class Dataset {
        final Path dir;
        final int port;
        final String[] familyIds;
        final String[] clientIds;
        final String[] tokens; // the current refresh token of each family, updated as chains continue
        final int clients;

        Dataset(Path dir, int port, int families, int clients) {
            this.dir = dir;
            this.port = port;
            this.familyIds = new String[families];
            this.clientIds = new String[Math.max(1, clients)];
            this.tokens = new String[families];
            this.clients = clients;
        }

        int families() {
            return familyIds.length;
        }

        String hostHeader() {
            return HOST + ":" + port;
        }

        byte[] refresh(int f) {
            return HttpConn.post(hostHeader(), "/token", "application/x-www-form-urlencoded", "",
                    "grant_type=refresh_token&refresh_token=" + tokens[f] + "&client_id=" + clientIds[f % clients]);
        }

        byte[] whoami(String accessToken) {
            return HttpConn.post(hostHeader(), "/mcp", "application/json", "Authorization: Bearer " + accessToken + "\r\n" + MCP_HEADERS, WHOAMI);
        }

        long refreshFileBytes() throws IOException {
            return Files.size(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS));
        }
    }

    /**
     * Seeds through the store itself ({@link FileStore#map}, {@link FileStore#journaledMap}, one transaction per 10,000
     * records): users (one per client; at least one, so the server creates no first user), public clients registered
     * for refresh tokens and last used 10 minutes ago, and families in steady state (a previous token and 5 retired
     * hashes, 7 rotations), so file sizes and heap are those of a long-running server. The store is closed cleanly,
     * leaving a snapshot and no journal to replay.
     */
    static Dataset seed(Path dir, int port, int families, int clients) throws IOException {
        deleteTree(dir);
        Files.createDirectories(dir.getParent());
        Dataset d = new Dataset(dir, port, families, clients);
        Instant now = Instant.now();
        String resource = "http://" + d.hostHeader() + "/mcp";
        int users = Math.max(1, clients);
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<UserRecord> u = store.map(io.mcpoauth.store.file.FileStores.USERS, "users", UserRecord.class, SnapshotFormat.Layout.INDENTED);
            DurableMap<ClientRecord> c = store.map(io.mcpoauth.store.file.FileStores.CLIENTS, "clients", ClientRecord.class, SnapshotFormat.Layout.INDENTED);
            DurableMap<RefreshFamily> r = store.journaledMap(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS, "refresh_tokens", RefreshFamily.class,
                    SnapshotFormat.Layout.ONE_LINE);
            u.update(tx -> {
                for (int i = 0; i < users; i++) {
                    String name = "benchuser" + i;
                    tx.put(io.mcpoauth.store.UserRecord.localId(name), new UserRecord(io.mcpoauth.store.UserRecord.localId(name), name, "local", name, null, null, null, null, now.minus(Duration.ofDays(30)), null));
                }
                return null;
            });
            for (int i = 0; i < clients; i++) d.clientIds[i] = Secrets.mint(Secrets.CLIENT_ID);
            c.update(tx -> {
                for (int i = 0; i < clients; i++) {
                    tx.put(d.clientIds[i], new ClientRecord(d.clientIds[i], "Bench client " + i, List.of("http://127.0.0.1:33418/callback"),
                            List.of("authorization_code", "refresh_token"), List.of("code"), "none", null, null, null, null,
                            now.minus(Duration.ofDays(3)), now.minus(Duration.ofMinutes(10)), null, Secrets.hash(Secrets.mint(Secrets.REGISTRATION_TOKEN))));
                }
                return null;
            });
            for (int from = 0; from < families; from += 10_000) {
                int start = from;
                int end = Math.min(families, from + 10_000);
                r.update(tx -> {
                    for (int i = start; i < end; i++) {
                        String id = Secrets.randomString(16);
                        String token = Secrets.REFRESH_TOKEN + id + "." + Secrets.randomString(32);
                        List<String> retired = new ArrayList<>();
                        for (int k = 0; k < 5; k++) retired.add(Secrets.hash(Secrets.randomString(32)).substring(0, 22));
                        Instant rotated = now.minus(Duration.ofMinutes(30));
                        tx.put(id, new RefreshFamily(id, d.clientIds[i % clients], io.mcpoauth.store.UserRecord.localId("benchuser" + (i % users)), "mcp", resource,
                                Secrets.hash(token), Secrets.hash(Secrets.randomString(32)), retired, now.minus(Duration.ofDays(10)),
                                rotated, rotated.plus(TTL), 7));
                        d.familyIds[i] = id;
                        d.tokens[i] = token;
                    }
                    return null;
                });
            }
        }
        return d;
    }

    // ---- load ----

    /** One request (or exchange) on a connection; returns false for a wrong answer. */
    interface Op {
        boolean run(HttpConn c, int thread, int seq) throws IOException;
    }

    record Load(long ops, long errors, double seconds, long[] sortedNanos, double serverCpu, double generatorCpu) {
        double rate() {
            return ops / seconds;
        }
    }

    /** {@code threads} connections running {@code op} in a loop: {@code warmup} s unmeasured, then {@code measure} s measured. */
    static Load load(ServerProcess s, int threads, double warmup, double measure, Op op) throws InterruptedException {
        return load(List.of(s), threads, warmup, measure, op);
    }

    /** The same over several servers: connection t goes to server t mod n; the server CPU is the sum of theirs. */
    static Load load(List<ServerProcess> servers, int threads, double warmup, double measure, Op op) throws InterruptedException {
        AtomicInteger phase = new AtomicInteger(); // 0 warm-up, 1 measured, 2 stop
        long[][] lat = new long[threads][];
        int[] counts = new int[threads];
        long[] errors = new long[threads];
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int tt = t;
            workers.add(new Thread(() -> {
                long[] l = new long[1 << 12];
                int c = 0;
                int seq = 0;
                try (HttpConn conn = new HttpConn(HOST, servers.get(tt % servers.size()).port)) {
                    int p;
                    while ((p = phase.get()) < 2) {
                        long t0 = System.nanoTime();
                        boolean ok;
                        try {
                            ok = op.run(conn, tt, seq++);
                        } catch (IOException e) {
                            ok = false;
                        }
                        long t1 = System.nanoTime();
                        if (p == 1 && phase.get() == 1) {
                            if (!ok) {
                                errors[tt]++;
                            } else {
                                if (c == l.length) l = Arrays.copyOf(l, c * 2);
                                l[c++] = t1 - t0;
                            }
                        }
                    }
                }
                lat[tt] = l;
                counts[tt] = c;
            }, "load-" + t));
        }
        workers.forEach(Thread::start);
        TimeUnit.MILLISECONDS.sleep((long) (warmup * 1000));
        double cpuS0 = cpu(servers);
        double cpuG0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        phase.set(1);
        TimeUnit.MILLISECONDS.sleep((long) (measure * 1000));
        phase.set(2);
        long t1 = System.nanoTime();
        double cpuS1 = cpu(servers);
        double cpuG1 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        for (Thread w : workers) w.join();
        double seconds = (t1 - t0) / 1e9;
        return new Load(Arrays.stream(counts).sum(), Arrays.stream(errors).sum(), seconds, merge(lat, counts),
                (cpuS1 - cpuS0) / seconds, (cpuG1 - cpuG0) / seconds);
    }

    static double cpu(List<ServerProcess> servers) {
        double sum = 0;
        for (ServerProcess s : servers) sum += s.cpuSeconds();
        return sum;
    }

    private static long[] merge(long[][] lat, int[] counts) {
        long[] all = new long[Arrays.stream(counts).sum()];
        int k = 0;
        for (int t = 0; t < lat.length; t++) {
            System.arraycopy(lat[t], 0, all, k, counts[t]);
            k += counts[t];
        }
        Arrays.sort(all);
        return all;
    }

    /** A rotation of family {@code f}: the chain continues with the token the server returned. Returns the access token or null. */
    static String rotate(HttpConn c, Dataset d, int f) throws IOException {
        HttpConn.Response r = c.send(d.refresh(f));
        String next = r.status() == 200 ? r.jsonString("refresh_token") : null;
        String access = r.status() == 200 ? r.jsonString("access_token") : null;
        if (next == null || access == null) {
            complain("refresh of family " + f + " answered " + r.status() + ": " + r.text());
            return null;
        }
        d.tokens[f] = next;
        return access;
    }

    static boolean whoamiOk(HttpConn.Response r) {
        String t = r.text();
        boolean ok = r.status() == 200 && t.contains("benchuser") && !t.contains("\"isError\":true");
        if (!ok) complain("whoami answered " + r.status() + ": " + t);
        return ok;
    }

    private static final AtomicInteger COMPLAINTS = new AtomicInteger();

    private static void complain(String what) {
        if (COMPLAINTS.incrementAndGet() <= 10) System.err.println("  unexpected: " + (what.length() > 300 ? what.substring(0, 300) : what));
    }

    // ---- scenarios ----

    record Rotation(int families, Load load, long fileBytes) {}

    /** 32 connections over every family of {@code d}; connection t owns the families i with i mod 32 = t. */
    static Rotation rotation(ServerProcess s, Dataset d) throws Exception {
        int n = d.families();
        int conns = ROTATE_CONNECTIONS;
        int[] cursor = new int[conns];
        for (int t = 0; t < conns; t++) cursor[t] = t;
        Load l = load(s, conns, WARMUP, ROTATE_SECONDS, (c, t, seq) -> {
            int f = cursor[t];
            cursor[t] = f + conns < n ? f + conns : t;
            return rotate(c, d, f) != null;
        });
        return new Rotation(n, l, d.refreshFileBytes());
    }

    record Steady(Load healthz, Load whoami) {
        double ratio() {
            return whoami.rate() / healthz.rate();
        }
    }

    /**
     * 64 connections, each with the access token of its own family (obtained by one refresh), alternating
     * {@code /healthz} and {@code whoami} phases in the same run so both see the same machine.
     */
    static Steady steady(ServerProcess s, Dataset d) throws Exception {
        int conns = STEADY_CONNECTIONS;
        byte[][] whoami = new byte[conns][];
        try (HttpConn c = new HttpConn(HOST, s.port)) {
            for (int t = 0; t < conns; t++) {
                String access = rotate(c, d, t);
                if (access == null) throw new IllegalStateException("cannot get an access token for the steady-state run");
                whoami[t] = d.whoami(access);
            }
        }
        byte[] healthz = HttpConn.get(d.hostHeader(), "/healthz");
        Op h = (c, t, seq) -> c.send(healthz).status() == 200;
        Op w = (c, t, seq) -> whoamiOk(c.send(whoami[t]));
        load(s, conns, 0, WARMUP / 2, w); // warm-up, not counted
        load(s, conns, 0, WARMUP / 2, h);
        List<Load> hs = new ArrayList<>();
        List<Load> ws = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            hs.add(load(s, conns, 0.5, STEADY_SECONDS, h));
            ws.add(load(s, conns, 0.5, STEADY_SECONDS, w));
        }
        return new Steady(combine(hs), combine(ws));
    }

    private static Load combine(List<Load> loads) {
        long ops = 0;
        long errors = 0;
        double seconds = 0;
        double cpuS = 0;
        double cpuG = 0;
        List<long[]> lat = new ArrayList<>();
        for (Load l : loads) {
            ops += l.ops();
            errors += l.errors();
            seconds += l.seconds();
            cpuS += l.serverCpu() * l.seconds();
            cpuG += l.generatorCpu() * l.seconds();
            lat.add(l.sortedNanos());
        }
        long[] all = lat.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Load(ops, errors, seconds, all, cpuS / seconds, cpuG / seconds);
    }

    record Herd(int clients, int concurrency, double drainSeconds, long errors, long[] refreshNanos, long[] reconnectNanos,
                int durableChecked, int durableFound, double serverCpu, double generatorCpu, int[] perSecond) {}

    /**
     * {@code count} clients, {@code concurrency} at a time, each on a new connection (the old ones died with the
     * server): whoami with a token from before the restart (expects 401), refresh (200), whoami with the new access
     * token (200). The pre-restart access tokens are syntactically valid {@code mcpat_} tokens the new process does
     * not know, which is exactly what every client holds after a restart. Then SIGKILL and a check on disk.
     */
    static Herd herd(ServerProcess s, Dataset d, int count, int concurrency, long seed) throws Exception {
        int n = d.families();
        List<Integer> pick = new ArrayList<>();
        for (int i = 0; i < n; i++) pick.add(i);
        Collections.shuffle(pick, new Random(seed));
        int[] order = pick.subList(0, Math.min(count, n)).stream().mapToInt(Integer::intValue).toArray();
        String[] rotated = new String[n];
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        long[] refresh = new long[order.length];
        long[] reconnect = new long[order.length];
        long[] ends = new long[order.length];
        AtomicLong lastEnd = new AtomicLong();
        double cpuS0 = s.cpuSeconds();
        double cpuG0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        long start = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            workers.add(new Thread(() -> {
                int k;
                while ((k = next.getAndIncrement()) < order.length) {
                    int f = order[k];
                    long t0 = System.nanoTime();
                    boolean ok = false;
                    try (HttpConn c = new HttpConn(HOST, s.port)) {
                        HttpConn.Response stale = c.send(d.whoami(Secrets.mint(Secrets.ACCESS_TOKEN)));
                        if (stale.status() != 401) {
                            complain("a pre-restart token answered " + stale.status() + ": " + stale.text());
                        } else {
                            long r0 = System.nanoTime();
                            String access = rotate(c, d, f);
                            refresh[k] = System.nanoTime() - r0;
                            if (access != null) {
                                rotated[f] = d.tokens[f];
                                ok = whoamiOk(c.send(d.whoami(access)));
                            }
                        }
                    } catch (IOException e) {
                        complain("herd client " + f + ": " + e);
                    }
                    long t1 = System.nanoTime();
                    reconnect[k] = t1 - t0;
                    ends[k] = t1;
                    lastEnd.accumulateAndGet(t1, Math::max);
                    if (!ok) errors.incrementAndGet();
                }
            }, "herd-" + t));
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) w.join();
        double drain = (lastEnd.get() - start) / 1e9;
        int[] perSecond = new int[(int) Math.ceil(drain)];
        for (long e : ends) perSecond[Math.min(perSecond.length - 1, (int) ((e - start) / 1_000_000_000L))]++;
        double cpuS = (s.cpuSeconds() - cpuS0) / drain;
        double cpuG = (ServerProcess.procCpuSeconds(ProcessHandle.current().pid()) - cpuG0) / drain;

        // Every acknowledged rotation must survive SIGKILL: open the store the way the next start would.
        s.kill();
        int checked = 0;
        int found = 0;
        try (FileStore store = FileStore.open(d.dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(store), TTL);
            for (int f = 0; f < n; f++) {
                if (rotated[f] == null) continue;
                checked++;
                RefreshFamily fam = rt.get(d.familyIds[f]);
                if (fam != null && Secrets.hash(rotated[f]).equals(fam.tokenHash())) found++;
            }
        }
        Arrays.sort(refresh);
        Arrays.sort(reconnect);
        return new Herd(order.length, concurrency, drain, errors.get(), refresh, reconnect, checked, found, cpuS, cpuG, perSecond);
    }

    record Start(int families, int clients, double coldStartMs, long heapBytes, List<String> histogram) {}

    // ---- main ----

    public static void main(String[] args) throws Exception {
        Path base = Path.of(System.getProperty("bench.http.dir", "target/httpbench")).toAbsolutePath();
        String out = System.getProperty("bench.http.out", QUICK ? "bench/results/http-quick.md" : "bench/results/http.md");
        Files.createDirectories(base);
        int port;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            port = ss.getLocalPort();
        }
        String loadBefore = loadAverage();
        long started = System.nanoTime();
        int[] serial = {0};
        ServerStarter starter = (d, name, jvmArgs) -> ServerProcess.start(d.dir, d.port, SERVER_HEAP, base.resolve(name + ".log"),
                JFR ? base.resolve(name + "-" + (++serial[0]) + ".jfr") : null, jvmArgs);

        // 0. An empty server (one user): the baseline heap.
        Dataset empty = seed(base.resolve("empty"), port, 0, 0);
        Start emptyStart;
        try (ServerProcess s = starter.start(empty, "empty", List.of())) {
            double ms = s.awaitHealthy(60_000);
            emptyStart = new Start(0, 0, ms, s.heapAfterFullGc(), List.of());
            s.stop();
        }
        System.err.printf(Locale.ROOT, "empty: cold start %.0f ms, heap after full GC %s%n", emptyStart.coldStartMs(), mib(emptyStart.heapBytes()));

        // 1. Small: steady state and rotation.
        Dataset ds = seed(base.resolve("small"), port, FAMILIES[0], FAMILIES[0] / 10);
        Small sm = small(starter, ds, "small", List.of());

        // 2. Large: cold start and heap, then a restart and the herd.
        int large = FAMILIES[1];
        Dataset dl = seed(base.resolve("large"), port, large, large / 10);
        long largeFile = dl.refreshFileBytes();
        Start largeStart;
        try (ServerProcess s = starter.start(dl, "large", List.of())) {
            double ms = s.awaitHealthy(60_000);
            long heap = s.heapAfterFullGc();
            largeStart = new Start(large, large / 10, ms, heap, s.histogram(12));
            s.stop();
        }
        System.err.printf(Locale.ROOT, "%,d families: cold start %.0f ms, heap after full GC %s (%,.0f bytes per family above empty)%n",
                large, largeStart.coldStartMs(), mib(largeStart.heapBytes()), perFamily(largeStart, emptyStart));
        Restart herd = restart(starter, dl, "large-restart", List.of(), 42);

        // 3. The same with the JIT limited to C1, an operator's choice for a server sized by its restart herd.
        Small smC1 = null;
        Restart herdC1 = null;
        if (C1) {
            smC1 = small(starter, ds, "small-c1", C1_FLAGS);
            herdC1 = restart(starter, dl, "large-restart-c1", C1_FLAGS, 43);
        }

        String md = markdown(sm, herd, smC1, herdC1, emptyStart, largeStart, largeFile, base, loadBefore + " before, " + loadAverage() + " after",
                (System.nanoTime() - started) / 1e9);
        System.out.println(md);
        if (!out.equals("-")) {
            Path p = Path.of(out);
            if (p.getParent() != null) Files.createDirectories(p.getParent());
            Files.writeString(p, md);
            System.err.println("Wrote " + p.toAbsolutePath());
        }
        if (COMPLAINTS.get() > 0) System.exit(1);
    }

    interface ServerStarter {
        ServerProcess start(Dataset d, String name, List<String> jvmArgs) throws IOException;
    }

    record Small(double coldStartMs, Steady steady, Rotation rotation) {}

    /** Steady state, then rotation, on one server started on {@code d}. */
    static Small small(ServerStarter starter, Dataset d, String name, List<String> jvmArgs) throws Exception {
        try (ServerProcess s = starter.start(d, name, jvmArgs)) {
            double ms = s.awaitHealthy(60_000);
            Steady steady = steady(s, d);
            System.err.printf(Locale.ROOT, "%s: /healthz %,.0f/s, whoami %,.0f/s, ratio %.0f%% (errors %d/%d)%n", name,
                    steady.healthz().rate(), steady.whoami().rate(), 100 * steady.ratio(), steady.healthz().errors(), steady.whoami().errors());
            Rotation rotation = rotation(s, d);
            System.err.printf(Locale.ROOT, "%s: rotation, %,d families: %,.0f/s, p50 %.1f ms, p99 %.1f ms, errors %d%n", name, d.families(),
                    rotation.load().rate(), pct(rotation.load().sortedNanos(), 0.5), pct(rotation.load().sortedNanos(), 0.99), rotation.load().errors());
            s.stop();
            return new Small(ms, steady, rotation);
        }
    }

    record Restart(double coldStartMs, Herd herd) {}

    /** A restart on {@code d} and, as soon as it answers, the herd; the server is killed at the end (see {@link #herd}). */
    static Restart restart(ServerStarter starter, Dataset d, String name, List<String> jvmArgs, long seed) throws Exception {
        try (ServerProcess s = starter.start(d, name, jvmArgs)) {
            double ms = s.awaitHealthy(60_000);
            Herd h = herd(s, d, HERD, HERD_CONCURRENCY, seed);
            System.err.printf(Locale.ROOT, "%s: started in %.0f ms; %,d reconnects in %.2f s, errors %d, refresh p50 %.1f p99 %.1f ms, "
                            + "reconnect p50 %.1f p99 %.1f ms, durable %d/%d, per second %s%n", name, ms, h.clients(), h.drainSeconds(), h.errors(),
                    pct(h.refreshNanos(), 0.5), pct(h.refreshNanos(), 0.99), pct(h.reconnectNanos(), 0.5), pct(h.reconnectNanos(), 0.99),
                    h.durableFound(), h.durableChecked(), Arrays.toString(h.perSecond()));
            return new Restart(ms, h);
        }
    }

    private static double perFamily(Start large, Start empty) {
        return (double) (large.heapBytes() - empty.heapBytes()) / large.families();
    }

    // ---- report ----

    static String markdown(Small sm, Restart restart, Small smC1, Restart restartC1, Start empty, Start large, long largeFile, Path base,
                           String load, double totalSeconds) {
        StringBuilder sb = new StringBuilder();
        Runtime rt = Runtime.getRuntime();
        sb.append("# HTTP benchmark: restart herd, durable rotation, steady MCP traffic, cold start, heap\n\n");
        sb.append("- Date: ").append(DateTimeFormatter.ISO_INSTANT.format(Instant.now().atOffset(ZoneOffset.UTC).withNano(0))).append('\n');
        sb.append("- Cores (Runtime.availableProcessors): ").append(rt.availableProcessors()).append(", shared by the server and the load generator\n");
        sb.append("- JVM: ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.runtime.version"))
                .append("; server: a child JVM, `java -Xmx").append(SERVER_HEAP).append(" -cp ... io.mcpoauth.Main serve`, default collector and JIT (as plain `java -jar`), ")
                .append("`LOG_LEVEL=warn`\n");
        sb.append("- OS: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append("; data directories under ").append(base).append('\n');
        sb.append("- Load average (1/5/15 min): ").append(load).append(" (other processes may share these cores)\n");
        if (!NOTE.isEmpty()) sb.append("- Note: ").append(NOTE).append('\n');
        sb.append(String.format(Locale.ROOT, "- Whole run: %.0f s%s%n%n", totalSeconds, QUICK ? " (quick mode: not the reference figures)" : ""));

        Herd herd = restart.herd();
        Load r = sm.rotation().load();
        Steady st = sm.steady();
        sb.append("| Scenario | Figure | Target | Met? |\n|---|---:|---|---|\n");
        row(sb, String.format(Locale.ROOT, "Restart herd: %,d reconnects over %,d stored families, %d concurrent", herd.clients(), large.families(),
                herd.concurrency()), String.format(Locale.ROOT, "%.2f s", herd.drainSeconds()), "within 5 s", herd.drainSeconds() <= 5.0);
        row(sb, "Restart herd: errors", String.valueOf(herd.errors()), "0", herd.errors() == 0);
        row(sb, "Restart herd: acknowledged rotations found on disk after SIGKILL", herd.durableFound() + " / " + herd.durableChecked(), "all",
                herd.durableFound() == herd.durableChecked() && herd.durableChecked() > 0);
        row(sb, "Restart herd: refresh p50 / p99", String.format(Locale.ROOT, "%.1f / %.1f ms", pct(herd.refreshNanos(), .5), pct(herd.refreshNanos(), .99)), "", null);
        row(sb, "Restart herd: whole reconnect (401, refresh, call) p50 / p99",
                String.format(Locale.ROOT, "%.1f / %.1f ms", pct(herd.reconnectNanos(), .5), pct(herd.reconnectNanos(), .99)), "", null);
        row(sb, String.format(Locale.ROOT, "Durable refresh rotation, %,d families, %d connections", sm.rotation().families(), ROTATE_CONNECTIONS),
                String.format(Locale.ROOT, "%,.0f /s", r.rate()), "at least 4,300/s (moonshot 8,400/s)", r.rate() >= 4300);
        row(sb, "Durable refresh rotation: p50 / p99", String.format(Locale.ROOT, "%.1f / %.1f ms", pct(r.sortedNanos(), .5), pct(r.sortedNanos(), .99)),
                "p99 under 50 ms", pct(r.sortedNanos(), .99) < 50);
        row(sb, String.format(Locale.ROOT, "Steady state, %d connections: `tools/call whoami` / `/healthz`", STEADY_CONNECTIONS),
                String.format(Locale.ROOT, "%,.0f /s / %,.0f /s = %.0f%%", st.whoami().rate(), st.healthz().rate(), 100 * st.ratio()),
                "whoami at least 60% of /healthz", st.ratio() >= 0.6);
        double cold = Math.max(large.coldStartMs(), restart.coldStartMs());
        row(sb, String.format(Locale.ROOT, "Cold start to the first 200 on /healthz, %,d families and %,d clients on disk", large.families(), large.clients()),
                String.format(Locale.ROOT, "%,.0f ms and %,.0f ms (two starts)", large.coldStartMs(), restart.coldStartMs()), "under 2 s", cold < 2000);
        double pf = perFamily(large, empty);
        row(sb, "Heap after a full GC, per stored family", String.format(Locale.ROOT, "%,.0f bytes (%s with %,d families, %s empty)", pf,
                mib(large.heapBytes()), large.families(), mib(empty.heapBytes())), "under 1 KB", pf < 1024);
        row(sb, "Load generator check: `/healthz` at " + STEADY_CONNECTIONS + " connections",
                String.format(Locale.ROOT, "%,.0f /s; CPU: server %.0f%%, generator %.0f%% of one core", st.healthz().rate(),
                        100 * st.healthz().serverCpu(), 100 * st.healthz().generatorCpu()), "", null);

        if (smC1 != null && restartC1 != null) {
            Herd h1 = restartC1.herd();
            Load r1 = smC1.rotation().load();
            sb.append("\n## The JIT limited to C1 (`-XX:TieredStopAtLevel=1`): how `./run.sh` starts the server\n\n");
            sb.append("Right after a start, the C2 compiler threads take about as much CPU as the requests (see the herd below), and ")
                    .append("C2's code only pays off later. The server is sized by its restart herd, so `./run.sh` stops the JIT at C1 ")
                    .append("(override with `JAVA_OPTS`), at some cost in peak throughput. Same data and method; only the server's JVM flag differs.\n\n");
            sb.append("| Scenario, C1 only | Figure | Target | Met? |\n|---|---:|---|---|\n");
            row(sb, String.format(Locale.ROOT, "Restart herd: %,d reconnects, %d concurrent", h1.clients(), h1.concurrency()),
                    String.format(Locale.ROOT, "%.2f s (errors %d, durable %d / %d)", h1.drainSeconds(), h1.errors(), h1.durableFound(), h1.durableChecked()),
                    "within 5 s, 0 errors", h1.drainSeconds() <= 5.0 && h1.errors() == 0 && h1.durableFound() == h1.durableChecked());
            row(sb, "Restart herd: refresh p50 / p99", String.format(Locale.ROOT, "%.1f / %.1f ms", pct(h1.refreshNanos(), .5), pct(h1.refreshNanos(), .99)), "", null);
            row(sb, String.format(Locale.ROOT, "Cold start, %,d families (the restart before the herd)", large.families()),
                    String.format(Locale.ROOT, "%,.0f ms", restartC1.coldStartMs()), "under 2 s", restartC1.coldStartMs() < 2000);
            row(sb, "Durable refresh rotation, same run as above", String.format(Locale.ROOT, "%,.0f /s, p99 %.1f ms", r1.rate(), pct(r1.sortedNanos(), .99)),
                    "at least 4,300/s, p99 under 50 ms", r1.rate() >= 4300 && pct(r1.sortedNanos(), .99) < 50);
            row(sb, "Steady state: whoami / `/healthz`", String.format(Locale.ROOT, "%,.0f /s / %,.0f /s = %.0f%%", smC1.steady().whoami().rate(),
                    smC1.steady().healthz().rate(), 100 * smC1.steady().ratio()), "at least 60%", smC1.steady().ratio() >= 0.6);
        }

        sb.append("\n## How each figure is measured\n\n");
        sb.append("- Data is seeded through the store classes (`FileStore.open`, `FileStore.map`/`journaledMap`, one transaction per 10,000 records), ")
                .append("then the server is started as a child JVM on it. Families are in steady state (a previous token and 5 retired ")
                .append("hashes); 10 families per client, one user per client; clients are public (`none`) and were last used 10 minutes ")
                .append("ago. `refresh_tokens.json` with ").append(String.format(Locale.ROOT, "%,d", large.families())).append(" families: ")
                .append(mib(largeFile)).append(".\n");
        sb.append("- The load generator is a small HTTP/1.1 keep-alive client over plain sockets (`HttpConn`), one thread per connection, ")
                .append("in the bench JVM on the same cores. Its CPU use is reported next to the server's so its share is visible.\n");
        sb.append(String.format(Locale.ROOT, "- **Restart herd**: the server is restarted (a new process) on the %,d-family data and, as soon as ",
                        large.families()))
                .append("`/healthz` answers, ").append(String.format(Locale.ROOT, "%,d", herd.clients())).append(" clients (families picked at random, ")
                .append(herd.concurrency()).append(" at a time, each on a new connection) each: call `tools/call whoami` with the access ")
                .append("token they held before the restart (a well-formed `mcpat_` token the new process does not know: what every client ")
                .append("holds after a restart) and expect 401; refresh (`grant_type=refresh_token`, public client) and expect 200; call ")
                .append("`whoami` again with the new access token and expect 200 with their user. Drain time is from the first request to ")
                .append("the last answer. Then the server is killed with SIGKILL, the store is opened as the next start would open it, and ")
                .append("every refresh token the server handed out must be the current one of its family.\n");
        sb.append(String.format(Locale.ROOT, "  Reconnects completed in each second: %s. CPU during the herd: server %.0f%%, generator %.0f%% of one core.%n",
                Arrays.toString(herd.perSecond()), 100 * herd.serverCpu(), 100 * herd.generatorCpu()));
        if (restartC1 != null) {
            sb.append(String.format(Locale.ROOT, "  With C1 only: %s per second.%n", Arrays.toString(restartC1.herd().perSecond())));
        }
        sb.append(String.format(Locale.ROOT, "- **Durable refresh rotation**: %d connections over %,d families (%s on disk); connection t owns the families ",
                        ROTATE_CONNECTIONS, sm.rotation().families(), mib(sm.rotation().fileBytes())))
                .append("i with i mod ").append(ROTATE_CONNECTIONS).append(" = t and rotates them in turn, each chain continuing with the ")
                .append("refresh token the previous rotation returned. ").append(fmt(WARMUP)).append(" s warm-up, ").append(fmt(ROTATE_SECONDS))
                .append(" s measured; a rotation counts when its 200 arrived, which the server sends only after the rotation is in the ")
                .append(String.format(Locale.ROOT, "fsynced journal. Errors: %d. Max %.1f ms. CPU: server %.0f%%, generator %.0f%% of one core.%n",
                        r.errors(), pct(r.sortedNanos(), 1.0), 100 * r.serverCpu(), 100 * r.generatorCpu()));
        sb.append(String.format(Locale.ROOT, "- **Steady state**: %d connections, each with a valid access token of its own family; phases of ", STEADY_CONNECTIONS))
                .append(fmt(STEADY_SECONDS)).append(" s alternate `/healthz` and `whoami` twice (after a warm-up of each) and the rates ")
                .append("are summed per kind. `whoami` is `POST /mcp` with `Authorization: Bearer`, `Content-Type: application/json`, ")
                .append("`Accept: application/json, text/event-stream`, `MCP-Protocol-Version: 2025-11-25` and a `tools/call` body, ")
                .append("with no `initialize` first (the transport is stateless). Both saturate the two cores (server plus generator), so the ")
                .append("ratio compares what each request costs. ")
                .append(String.format(Locale.ROOT, "p50 / p99: /healthz %.1f / %.1f ms, whoami %.1f / %.1f ms. Errors: %d, %d. ",
                        pct(st.healthz().sortedNanos(), .5), pct(st.healthz().sortedNanos(), .99), pct(st.whoami().sortedNanos(), .5),
                        pct(st.whoami().sortedNanos(), .99), st.healthz().errors(), st.whoami().errors()))
                .append(String.format(Locale.ROOT, "CPU during whoami: server %.0f%%, generator %.0f%% of one core.%n",
                        100 * st.whoami().serverCpu(), 100 * st.whoami().generatorCpu()));
        sb.append("- **Cold start**: wall time from spawning `java -cp ... io.mcpoauth.Main serve` to the first 200 on `/healthz` ")
                .append("(polled every 2 ms), JVM start included. ")
                .append(String.format(Locale.ROOT, "Empty data directory: %,.0f ms; %,d families: %,.0f ms.%n", empty.coldStartMs(),
                        sm.rotation().families(), sm.coldStartMs()));
        sb.append("- **Heap**: `jcmd <pid> GC.run` (a full GC) then `jcmd <pid> GC.heap_info`, right after the cold start; per family = ")
                .append("(heap with the data − heap of an empty server) / families, so the clients and users stored with them are counted too.\n");
        if (!large.histogram().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%n### Largest classes on the heap with %,d families (`jcmd GC.class_histogram`)%n%n```%n", large.families()));
            large.histogram().forEach(l -> sb.append(l).append('\n'));
            sb.append("```\n");
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String scenario, String figure, String target, Boolean met) {
        sb.append("| ").append(scenario).append(" | ").append(figure).append(" | ").append(target).append(" | ")
                .append(met == null ? "" : met ? "yes" : "**no**").append(" |\n");
    }

    static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return p[0] + " / " + p[1] + " / " + p[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
