package io.mcpoauth.bench;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.Contents;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.postgres.PgStores;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The file store against PostgreSQL over HTTP, in the same run on the same machine: durable refresh rotations with 32
 * connections at 10,000 and 100,000 families (the file store; one instance on PostgreSQL; two instances on the same
 * database, connection t on instance t mod 2), then the restart herd (10,000 reconnects over 100,000 families, 200 at
 * a time) against one file-store server and against two instances on PostgreSQL, each followed by SIGKILL and a
 * check that every acknowledged rotation is there. Servers are child JVMs with {@code -XX:TieredStopAtLevel=1} (what
 * {@code ./run.sh} starts), {@code LOG_LEVEL=warn}, the default pool (DATABASE_POOL_SIZE=10). The database is
 * PG_TEST_URL (a schema of its own, dropped at the end). Writes {@code bench/results/postgres.md}.
 *
 * <p>System properties: {@code bench.quick=true} (10k/20k families, 2,000 reconnects, short phases),
 * {@code bench.families}, {@code bench.herd}, {@code bench.rotate.seconds}, {@code bench.warmup}, {@code bench.pool}
 * (DATABASE_POOL_SIZE), {@code bench.connections} (32), {@code bench.phases} (store,file,pg1,pg2,herd,file2), {@code bench.jit} (c1 or full), {@code bench.jfr},
 * {@code bench.serverjvm} (JAVA_TOOL_OPTIONS for the servers), {@code bench.pg.out}, {@code bench.note}.
 */
public final class ClusterBench {
    private static final boolean QUICK = Boolean.getBoolean("bench.quick");
    private static final int[] FAMILIES = Arrays.stream(System.getProperty("bench.families", QUICK ? "10000,20000" : "10000,100000").split(","))
            .map(String::trim).mapToInt(Integer::parseInt).toArray();
    private static final int HERD = Integer.getInteger("bench.herd", QUICK ? 2_000 : 10_000);
    private static final int HERD_CONCURRENCY = 200;
    private static final int CONNECTIONS = Integer.getInteger("bench.connections", 32);
    private static final double SECONDS = Double.parseDouble(System.getProperty("bench.rotate.seconds", QUICK ? "4" : "15"));
    private static final double WARMUP = Double.parseDouble(System.getProperty("bench.warmup", QUICK ? "2" : "10"));
    private static final String POOL = System.getProperty("bench.pool", "10");
    /** The servers' JIT: C1 only, as ./run.sh starts them (default), or the full JIT ({@code -Dbench.jit=full}). */
    private static final List<String> JVM = System.getProperty("bench.jit", "c1").equals("full") ? List.of() : List.of("-XX:TieredStopAtLevel=1");
    private static final String HEAP = "1g";
    private static final List<String> PHASES = List.of(System.getProperty("bench.phases", "store,file,pg1,pg2,herd,file2").split(","));

    private ClusterBench() {}

    record Rate(String what, int families, int instances, HttpBench.Load load, double dbCpu) {}

    record HerdResult(String what, int instances, HttpBench.Herd herd, double startMs) {}

    /** The store alone (no HTTP): 32 threads calling RefreshTokens.rotate. */
    record StoreRate(String what, int families, long ops, double seconds, double p50, double p99, double cpu) {
        double rate() {
            return ops / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(System.getProperty("bench.pg.dir", "target/clusterbench")).toAbsolutePath();
        String out = System.getProperty("bench.pg.out", QUICK ? "bench/results/postgres-quick.md" : "bench/results/postgres.md");
        Files.createDirectories(base);
        PgTestDatabase pg = new PgTestDatabase();
        String loadBefore = loadAverage();
        long started = System.nanoTime();
        List<Rate> rates = new ArrayList<>();
        List<HerdResult> herds = new ArrayList<>();
        List<StoreRate> storeRates = new ArrayList<>();
        try {
            if (PHASES.contains("store")) {
                for (int n : FAMILIES) storeRates.addAll(storePhase(pg, base, n));
            }
            for (int n : FAMILIES) {
                if (!PHASES.contains("file") && !PHASES.contains("pg1") && !PHASES.contains("pg2") && !PHASES.contains("herd")) break;
                int port = freePort();
                HttpBench.Dataset d = HttpBench.seed(base.resolve("data-" + n), port, n, n / 10);
                // the file store
                if (PHASES.contains("file")) {
                    try (ServerProcess s = ServerProcess.start(d.dir, d.port, HEAP, base.resolve("file-" + n + ".log"), null, JVM)) {
                        s.awaitHealthy(120_000);
                        rates.add(report(rotation("file", List.of(s), d)));
                        s.stop();
                    }
                }
                // the same records in PostgreSQL (the chains continue where the file run left them)
                String url = pg.newSchema();
                Contents contents;
                try (FileStores files = FileStores.open(d.dir)) {
                    contents = files.awaitLoaded().contents();
                }
                try (PgStores db = PgStores.open(url, null, 2, 1000)) {
                    db.load(contents);
                }
                if (PHASES.contains("pg1")) {
                    try (ServerProcess s = pgInstance(d, d.port, url, base, "pg1-" + n)) {
                        s.awaitHealthy(120_000);
                        rates.add(report(rotation("postgres, 1 instance", List.of(s), d)));
                        s.stop();
                    }
                }
                if (PHASES.contains("pg2")) try (ServerProcess a = pgInstance(d, d.port, url, base, "pg2a-" + n); ServerProcess b = pgInstance(d, freePort(), url, base, "pg2b-" + n)) {
                    a.awaitHealthy(120_000);
                    b.awaitHealthy(120_000);
                    rates.add(report(rotation("postgres, 2 instances", List.of(a, b), d)));
                    a.stop();
                    b.stop();
                }
                boolean herd = n == FAMILIES[FAMILIES.length - 1] && PHASES.contains("herd");
                if (herd) {
                    // the restart herd: two instances on the database, then one file-store server on the records as they are then
                    HerdResult pgHerd = report(pgHerd(d, url, base, 43));
                    HttpBench.Restart fileHerd = HttpBench.restart((ds, name, jvm) -> ServerProcess.start(ds.dir, ds.port, HEAP,
                            base.resolve(name + ".log"), null, jvm), reseedFile(d, url), "file-herd", JVM, 42);
                    herds.add(report(new HerdResult("file store, 1 server", 1, fileHerd.herd(), fileHerd.coldStartMs())));
                    herds.add(pgHerd);
                }
                if (PHASES.contains("file2")) {
                    // the control: two file-store servers on copies of the records (nothing shared), half the connections each
                    if (!herd && (PHASES.contains("pg1") || PHASES.contains("pg2"))) reseedFile(d, url);
                    rates.add(report(fileServers(d, base, n)));
                }
            }
        } finally {
            pg.dropAll();
        }
        String md = markdown(storeRates, rates, herds, loadBefore + " before, " + loadAverage() + " after", (System.nanoTime() - started) / 1e9);
        System.out.println(md);
        if (!out.equals("-")) {
            Path p = Path.of(out);
            if (p.getParent() != null) Files.createDirectories(p.getParent());
            Files.writeString(p, md);
            System.err.println("Wrote " + p.toAbsolutePath());
        }
    }

    /** The file data directory again, as the database holds it now (the chains moved on during the PostgreSQL runs). */
    private static HttpBench.Dataset reseedFile(HttpBench.Dataset d, String url) throws IOException {
        Contents now;
        try (PgStores db = PgStores.open(url, null, 2, 1000)) {
            now = db.contents();
        }
        deleteTree(d.dir);
        try (FileStores files = FileStores.open(d.dir)) {
            files.awaitLoaded().load(now);
        }
        return d;
    }

    /** Two file-store servers, each on its own copy of the data directory, one PUBLIC_URL for both. */
    static Rate fileServers(HttpBench.Dataset d, Path base, int n) throws Exception {
        Path copy = base.resolve("file2b-data-" + n);
        deleteTree(copy);
        try (var walk = Files.walk(d.dir)) {
            for (Path p : walk.toList()) {
                Path to = copy.resolve(d.dir.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else if (!p.getFileName().toString().endsWith(".lock")) Files.copy(p, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        Map<String, String> env = Map.of("PUBLIC_URL", "http://" + d.hostHeader());
        try (ServerProcess a = ServerProcess.start(d.dir, d.port, HEAP, base.resolve("file2a-" + n + ".log"), null, JVM, env);
             ServerProcess b = ServerProcess.start(copy, freePort(), HEAP, base.resolve("file2b-" + n + ".log"), null, JVM, env)) {
            a.awaitHealthy(120_000);
            b.awaitHealthy(120_000);
            Rate r = rotation("file, 2 servers, nothing shared", List.of(a, b), d);
            a.stop();
            b.stop();
            return r;
        }
    }

    static ServerProcess pgInstance(HttpBench.Dataset d, int port, String url, Path base, String name) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("STORE", "postgres");
        env.put("DATABASE_URL", url);
        env.put("DATABASE_POOL_SIZE", POOL);
        env.put("PUBLIC_URL", "http://" + d.hostHeader()); // one issuer for every instance, as behind a load balancer
        Path data = base.resolve(name);
        Files.createDirectories(data);
        if (System.getProperty("bench.serverjvm") != null) env.put("JAVA_TOOL_OPTIONS", System.getProperty("bench.serverjvm"));
        Path jfr = Boolean.getBoolean("bench.jfr") ? base.resolve(name + ".jfr") : null;
        return ServerProcess.start(data, port, HEAP, base.resolve(name + ".log"), jfr, JVM, env);
    }

    /** 32 connections over every family; connection t owns the families i with i mod 32 = t and is on server t mod n. */
    static Rate rotation(String what, List<ServerProcess> servers, HttpBench.Dataset d) throws Exception {
        int n = d.families();
        int[] cursor = new int[CONNECTIONS];
        for (int t = 0; t < CONNECTIONS; t++) cursor[t] = t;
        double db0 = databaseCpu();
        long t0 = System.nanoTime();
        HttpBench.Load l = HttpBench.load(servers, CONNECTIONS, WARMUP, SECONDS, (c, t, seq) -> {
            int f = cursor[t];
            cursor[t] = f + CONNECTIONS < n ? f + CONNECTIONS : t;
            return HttpBench.rotate(c, d, f) != null;
        });
        double db = (databaseCpu() - db0) / ((System.nanoTime() - t0) / 1e9);
        return new Rate(what, n, servers.size(), l, what.startsWith("file") ? -1 : db);
    }

    /** Both instances restarted on the database, then the herd spread over them (client k on instance k mod 2), then SIGKILL of both. */
    static HerdResult pgHerd(HttpBench.Dataset d, String url, Path base, long seed) throws Exception {
        ServerProcess a = pgInstance(d, d.port, url, base, "pg-herd-a");
        ServerProcess b = pgInstance(d, freePort(), url, base, "pg-herd-b");
        try {
            double ms = Math.max(a.awaitHealthy(120_000), b.awaitHealthy(120_000));
            List<ServerProcess> servers = List.of(a, b);
            int n = d.families();
            List<Integer> pick = new ArrayList<>();
            for (int i = 0; i < n; i++) pick.add(i);
            Collections.shuffle(pick, new Random(seed));
            int[] order = pick.subList(0, Math.min(HERD, n)).stream().mapToInt(Integer::intValue).toArray();
            String[] rotated = new String[n];
            AtomicInteger next = new AtomicInteger();
            AtomicLong errors = new AtomicLong();
            long[] refresh = new long[order.length];
            long[] reconnect = new long[order.length];
            long[] ends = new long[order.length];
            AtomicLong lastEnd = new AtomicLong();
            double cpuS0 = HttpBench.cpu(servers);
            double cpuG0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
            long start = System.nanoTime();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < HERD_CONCURRENCY; t++) {
                workers.add(new Thread(() -> {
                    int k;
                    while ((k = next.getAndIncrement()) < order.length) {
                        int f = order[k];
                        long t0 = System.nanoTime();
                        boolean ok = false;
                        try (HttpConn c = new HttpConn("127.0.0.1", servers.get(k % 2).port)) {
                            HttpConn.Response stale = c.send(d.whoami(Secrets.mint(Secrets.ACCESS_TOKEN)));
                            if (stale.status() == 401) {
                                long r0 = System.nanoTime();
                                String access = HttpBench.rotate(c, d, f);
                                refresh[k] = System.nanoTime() - r0;
                                if (access != null) {
                                    rotated[f] = d.tokens[f];
                                    ok = HttpBench.whoamiOk(c.send(d.whoami(access)));
                                }
                            }
                        } catch (IOException e) {
                            ok = false;
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
            double cpuS = (HttpBench.cpu(servers) - cpuS0) / drain;
            double cpuG = (ServerProcess.procCpuSeconds(ProcessHandle.current().pid()) - cpuG0) / drain;
            a.kill();
            b.kill();
            int checked = 0;
            int found = 0;
            try (PgStores db = PgStores.open(url, null, 2, 1000)) {
                for (int f = 0; f < n; f++) {
                    if (rotated[f] == null) continue;
                    checked++;
                    RefreshFamily fam = db.grants().get(d.familyIds[f]);
                    if (fam != null && Secrets.hash(rotated[f]).equals(fam.tokenHash())) found++;
                }
            }
            Arrays.sort(refresh);
            Arrays.sort(reconnect);
            return new HerdResult("postgres, 2 instances", 2, new HttpBench.Herd(order.length, HERD_CONCURRENCY, drain, errors.get(), refresh,
                    reconnect, checked, found, cpuS, cpuG, perSecond), ms);
        } finally {
            a.close();
            b.close();
        }
    }

    private static Rate report(Rate r) {
        System.err.printf(Locale.ROOT, "%s, %,d families: %,.0f rotations/s, p50 %.1f ms, p99 %.1f ms, errors %d, server CPU %.0f%%, database CPU %s%n",
                r.what(), r.families(), r.load().rate(), HttpBench.pct(r.load().sortedNanos(), 0.5), HttpBench.pct(r.load().sortedNanos(), 0.99),
                r.load().errors(), 100 * r.load().serverCpu(), r.dbCpu() < 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.dbCpu()));
        return r;
    }

    private static HerdResult report(HerdResult h) {
        HttpBench.Herd x = h.herd();
        System.err.printf(Locale.ROOT, "herd, %s: %,d reconnects in %.2f s, errors %d, durable %d/%d, per second %s%n", h.what(), x.clients(),
                x.drainSeconds(), x.errors(), x.durableFound(), x.durableChecked(), Arrays.toString(x.perSecond()));
        return h;
    }

    /** CPU seconds used so far by every process named postgres on this machine (the database server and its backends). */
    static double databaseCpu() {
        double sum = 0;
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) dirs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (!comm.startsWith("postgres")) continue;
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                } catch (IOException | RuntimeException ignored) {
                    // the process ended
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return sum;
    }

    /** The file store (StoreBench's group commit) and PostgreSQL with 10 and 32 pooled connections, the same families, 32 threads. */
    static List<StoreRate> storePhase(PgTestDatabase pg, Path base, int n) throws Exception {
        List<StoreRate> out = new ArrayList<>();
        Path dir = base.resolve("store-" + n);
        deleteTree(dir);
        String[] tokens = StoreBench.seed(dir, n);
        double cpu0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        StoreBench.Result file = StoreBench.run(dir, tokens, "group", CONNECTIONS, WARMUP, SECONDS);
        double cpu = (ServerProcess.procCpuSeconds(ProcessHandle.current().pid()) - cpu0) / ((System.nanoTime() - t0) / 1e9);
        out.add(report(new StoreRate("file store (group commit)", n, file.ops(), file.seconds(), file.p50(), file.p99(), cpu)));
        Contents contents;
        try (FileStores files = FileStores.open(dir)) {
            contents = files.awaitLoaded().contents();
        }
        String url = pg.newSchema();
        try (PgStores db = PgStores.open(url, null, 2, 1000)) {
            db.load(contents);
        }
        for (int pool : new int[] {10, 32}) {
            try (PgStores db = PgStores.open(url, null, pool, 1000)) {
                out.add(report(pgStoreRun(db, tokens, "postgres, pool " + pool, n)));
            }
        }
        deleteTree(dir);
        return out;
    }

    private static StoreRate pgStoreRun(PgStores db, String[] tokens, String what, int n) throws Exception {
        io.mcpoauth.oauth.RefreshTokens rt = new io.mcpoauth.oauth.RefreshTokens(db.grants(), java.time.Duration.ofDays(30));
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicLong windowStart = new AtomicLong(Long.MAX_VALUE);
        AtomicLong windowEnd = new AtomicLong(Long.MAX_VALUE);
        long[][] lat = new long[CONNECTIONS][];
        int[] counts = new int[CONNECTIONS];
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < CONNECTIONS; t++) {
            int tt = t;
            workers.add(new Thread(() -> {
                long[] l = new long[1 << 14];
                int c = 0;
                int i = tt;
                while (!stop.get()) {
                    long s0 = System.nanoTime();
                    io.mcpoauth.oauth.RefreshTokens.Rotation r = rt.rotate(tokens[i], "mcpc_client" + (i % 50), Instant.now(), f -> {});
                    long s1 = System.nanoTime();
                    if (r.outcome() != io.mcpoauth.oauth.RefreshTokens.Outcome.ROTATED) throw new IllegalStateException("rotation " + r.outcome());
                    tokens[i] = r.refreshToken();
                    if (s1 >= windowStart.get() && s1 <= windowEnd.get()) {
                        if (c == l.length) l = Arrays.copyOf(l, c * 2);
                        l[c++] = s1 - s0;
                    }
                    i += CONNECTIONS;
                    if (i >= n) i = tt;
                }
                lat[tt] = l;
                counts[tt] = c;
            }, "pg-writer-" + t));
        }
        workers.forEach(Thread::start);
        Thread.sleep((long) (WARMUP * 1000));
        double cpu0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        windowStart.set(System.nanoTime());
        Thread.sleep((long) (SECONDS * 1000));
        windowEnd.set(System.nanoTime());
        double cpu1 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        stop.set(true);
        for (Thread w : workers) w.join();
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int k = 0;
        for (int t = 0; t < CONNECTIONS; t++) {
            System.arraycopy(lat[t], 0, all, k, counts[t]);
            k += counts[t];
        }
        Arrays.sort(all);
        double seconds = (windowEnd.get() - windowStart.get()) / 1e9;
        return new StoreRate(what, n, total, seconds, HttpBench.pct(all, 0.5), HttpBench.pct(all, 0.99), (cpu1 - cpu0) / seconds);
    }

    private static StoreRate report(StoreRate r) {
        System.err.printf(Locale.ROOT, "store alone, %s, %,d families: %,.0f rotations/s, p50 %.1f ms, p99 %.1f ms, this JVM's CPU %.0f%%%n", r.what(),
                r.families(), r.rate(), r.p50(), r.p99(), 100 * r.cpu());
        return r;
    }

    static String markdown(List<StoreRate> storeRates, List<Rate> rates, List<HerdResult> herds, String load, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("# PostgreSQL store against the file store over HTTP: durable rotation and the restart herd\n\n");
        sb.append("- Date: ").append(DateTimeFormatter.ISO_INSTANT.format(Instant.now().atOffset(ZoneOffset.UTC).withNano(0))).append('\n');
        sb.append("- Cores: ").append(Runtime.getRuntime().availableProcessors())
                .append(", shared by the servers, PostgreSQL and the load generator (and by other builds on this machine)\n");
        sb.append("- Command: `./run.sh bench` (this part: `java -cp ... io.mcpoauth.bench.ClusterBench`");
        if (QUICK) sb.append(" `-Dbench.quick=true`");
        sb.append(")\n");
        sb.append("- Servers: child JVMs, `java -Xmx").append(HEAP).append(JVM.isEmpty() ? "" : " -XX:TieredStopAtLevel=1")
                .append(" -cp ... io.mcpoauth.Main serve`, `LOG_LEVEL=warn`; ")
                .append("PostgreSQL instances with `DATABASE_POOL_SIZE=").append(POOL).append("` each, one PUBLIC_URL for all\n");
        sb.append("- Database: ").append(databaseVersion()).append(", PG_TEST_URL (fsync on, synchronous_commit on); a schema of its own for the run\n");
        sb.append("- Load average (1/5/15 min): ").append(load).append('\n');
        String note = System.getProperty("bench.note", "");
        if (!note.isEmpty()) sb.append("- Note: ").append(note).append('\n');
        sb.append(String.format(Locale.ROOT, "- Whole run: %.0f s%n%n", seconds));
        if (!storeRates.isEmpty()) {
            sb.append("## The store alone: ").append(CONNECTIONS).append(" threads calling `RefreshTokens.rotate`\n\n");
            sb.append("No HTTP: the rotation rules over the file store (group commit, as `StoreBench` measures it) and over PostgreSQL (the "
                    + "conditional UPDATE on the family as this instance last wrote it, synchronously committed), the same families in steady state, each chain continuing with its "
                    + "rotated token. CPU is this JVM's only (the file store's fsyncs are the kernel's; PostgreSQL's work is its own processes').\n\n");
            sb.append("| Families | Store | Rotations/s | vs file | p50 ms | p99 ms | CPU of this JVM |\n|---:|---|---:|---:|---:|---:|---:|\n");
            for (StoreRate r : storeRates) {
                double file = storeRates.stream().filter(x -> x.families() == r.families() && x.what().startsWith("file")).mapToDouble(StoreRate::rate)
                        .findFirst().orElse(Double.NaN);
                sb.append(String.format(Locale.ROOT, "| %,d | %s | %,.0f | %.0f%% | %.1f | %.1f | %.0f%% |%n", r.families(), r.what(), r.rate(),
                        100 * r.rate() / file, r.p50(), r.p99(), 100 * r.cpu()));
            }
            sb.append('\n');
        }
        if (!rates.isEmpty()) {
        sb.append("## Durable refresh rotation over HTTP, ").append(CONNECTIONS).append(" connections\n\n");
        sb.append(String.format(Locale.ROOT, "Connection t owns the families i with i mod %d = t and rotates them in turn, each chain continuing with the token "
                + "the previous rotation returned; %.0f s warm-up, %.0f s measured. A rotation counts when its 200 arrived: the file store answers after "
                + "the journal frame is fdatasynced, PostgreSQL after the synchronous commit of the statement that makes the conditional UPDATE and inserts "
                + "the access token it issues. With two instances or servers, connection t is on instance t mod 2. The control, `file, 2 servers, "
                + "nothing shared`, is two file-store servers each on its own copy of the records: what two JVMs on these cores give when they "
                + "share nothing at all.%n%n", CONNECTIONS, WARMUP, SECONDS));
        sb.append("| Families | Store | Rotations/s | vs file | p50 ms | p99 ms | Errors | Server CPU | PostgreSQL CPU |\n");
        sb.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Rate r : rates) {
            double file = rates.stream().filter(x -> x.families() == r.families() && x.what().startsWith("file")).mapToDouble(x -> x.load().rate())
                    .findFirst().orElse(Double.NaN);
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %,.0f | %.0f%% | %.1f | %.1f | %d | %.0f%% | %s |%n", r.families(), r.what(), r.load().rate(),
                    100 * r.load().rate() / file, HttpBench.pct(r.load().sortedNanos(), 0.5), HttpBench.pct(r.load().sortedNanos(), 0.99),
                    r.load().errors(), 100 * r.load().serverCpu(), r.dbCpu() < 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.dbCpu())));
        }
        sb.append("\nCPU is in percent of one core (200% = both cores); PostgreSQL CPU is every `postgres` process on the machine during the run.\n\n");
        }
        if (!herds.isEmpty()) {
            sb.append("## Restart herd\n\n");
            sb.append(String.format(Locale.ROOT, "%,d clients over %,d families, %d at a time, each on a new connection: `whoami` with an access token the "
                    + "servers do not know (401), refresh (200), `whoami` again (200). The file store loses its access tokens at a restart, so this is what "
                    + "every client does then; PostgreSQL keeps them, so for the two instances it is the same load after they lost them for another reason "
                    + "(both instances restarted first). Then SIGKILL and a check that every acknowledged rotation is the family's current token.%n%n",
                    herds.get(0).herd().clients(), FAMILIES[FAMILIES.length - 1], HERD_CONCURRENCY));
            sb.append("| Deployment | Drain time | Errors | Refresh p50 / p99 ms | Reconnect p50 / p99 ms | Acknowledged rotations found after SIGKILL | Start to healthy | Reconnects per second |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---|\n");
            for (HerdResult h : herds) {
                HttpBench.Herd x = h.herd();
                sb.append(String.format(Locale.ROOT, "| %s | %.2f s | %d | %.1f / %.1f | %.1f / %.1f | %d / %d | %.0f ms | %s |%n", h.what(), x.drainSeconds(),
                        x.errors(), HttpBench.pct(x.refreshNanos(), 0.5), HttpBench.pct(x.refreshNanos(), 0.99), HttpBench.pct(x.reconnectNanos(), 0.5),
                        HttpBench.pct(x.reconnectNanos(), 0.99), x.durableFound(), x.durableChecked(), h.startMs(), Arrays.toString(x.perSecond())));
            }
        }
        return sb.toString();
    }

    private static String databaseVersion() {
        try (var c = PgTestDatabase.connect(PgTestDatabase.baseUrl()); var s = c.createStatement(); var rs = s.executeQuery("SHOW server_version")) {
            return rs.next() ? "PostgreSQL " + rs.getString(1) : "PostgreSQL";
        } catch (Exception e) {
            return "PostgreSQL";
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return ss.getLocalPort();
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
