package io.mcpoauth.bench;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.file.FileOps;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.file.SnapshotFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Durable refresh-token rotations through the real store: throughput and latency with 32 concurrent writers at
 * 1k / 10k / 100k families, group commit against one-write-per-operation. Writes a Markdown table to
 * {@code bench/results/store.md}.
 *
 * <p>Run: {@code mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt} then
 * {@code java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.mcpoauth.bench.StoreBench}.
 * System properties: {@code bench.warmup} (s, default 3), {@code bench.measure} (s, default 10),
 * {@code bench.threads} (32), {@code bench.scales} (1000,10000,100000), {@code bench.modes} (group,serial),
 * {@code bench.dir} (data directories, default target/storebench), {@code bench.out} (bench/results/store.md;
 * "-" for stdout only), {@code bench.note} (a line added to the output, e.g. the commit measured). Quick run: {@code -Dbench.quick=true} (1k and 10k families, group commit only, 1 s warm-up, 3 s measured,
 * written to bench/results/store-quick.md).
 */
public final class StoreBench {
    private static final Duration TTL = Duration.ofDays(30);
    private static final String RESOURCE = "https://mcp.example.com/mcp";

    private StoreBench() {}

    record Result(int families, String mode, long fileBytes, long ops, double seconds, double p50, double p99, double max,
                  long commits, long failures) {
        double perSecond() {
            return ops / seconds;
        }

        double opsPerCommit() {
            return commits == 0 ? 0 : (double) ops / commits;
        }
    }

    record Cost(int families, long fileBytes, double encodeMs, double cachedEncodeMs, double writeMs) {}

    public static void main(String[] args) throws Exception {
        boolean quick = Boolean.getBoolean("bench.quick"); // a short run: not the reference figures
        double warmup = Double.parseDouble(System.getProperty("bench.warmup", quick ? "1" : "3"));
        double measure = Double.parseDouble(System.getProperty("bench.measure", quick ? "3" : "10"));
        int threads = Integer.getInteger("bench.threads", 32);
        int[] scales = Arrays.stream(System.getProperty("bench.scales", quick ? "1000,10000" : "1000,10000,100000").split(",")).map(String::trim)
                .mapToInt(Integer::parseInt).toArray();
        List<String> modes = List.of(System.getProperty("bench.modes", quick ? "group" : "group,serial").split(","));
        Path base = Path.of(System.getProperty("bench.dir", "target/storebench")).toAbsolutePath();
        String out = System.getProperty("bench.out", quick ? "bench/results/store-quick.md" : "bench/results/store.md");

        Files.createDirectories(base);
        String loadBefore = loadAverage();
        String fsType = Files.getFileStore(base).type();
        List<Result> results = new ArrayList<>();
        List<Cost> costs = new ArrayList<>();
        for (int n : scales) {
            for (String mode : modes) {
                Path dir = base.resolve(n + "-" + mode);
                deleteTree(dir);
                String[] tokens = seed(dir, n);
                Result r = run(dir, tokens, mode.trim(), threads, warmup, measure);
                results.add(r);
                System.err.printf(Locale.ROOT, "%,d families, %s: %,.0f rotations/s, p50 %.1f ms, p99 %.1f ms, %.1f rotations per write%n",
                        n, r.mode(), r.perSecond(), r.p50(), r.p99(), r.opsPerCommit());
                if (mode.equals(modes.get(0))) costs.add(cost(dir, n));
                deleteTree(dir);
            }
        }
        String load = loadBefore.isEmpty() ? "" : loadBefore + " before, " + loadAverage() + " after";
        String md = markdown(results, costs, threads, warmup, measure, base, fsType, load);
        System.out.println(md);
        if (!out.equals("-")) {
            Path p = Path.of(out);
            if (p.getParent() != null) Files.createDirectories(p.getParent());
            Files.writeString(p, md);
            System.err.println("Wrote " + p.toAbsolutePath());
        }
    }

    /** Writes a refresh_tokens.json with {@code n} families in steady state (previous token and 5 retired hashes). */
    static String[] seed(Path dir, int n) throws IOException {
        Files.createDirectories(dir);
        Instant now = Instant.now();
        Map<String, RefreshFamily> records = new TreeMap<>();
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            String familyId = Secrets.randomString(16);
            String token = Secrets.REFRESH_TOKEN + familyId + "." + Secrets.randomString(32);
            List<String> retired = new ArrayList<>();
            for (int r = 0; r < 5; r++) retired.add(Secrets.hash(Secrets.randomString(8)).substring(0, 22));
            records.put(familyId, new RefreshFamily(familyId, clientId(i), "user-" + i + "@example.com", "mcp:tools", RESOURCE,
                    Secrets.hash(token), Secrets.hash(Secrets.randomString(32)), retired, now, now, now.plus(TTL), 7));
            tokens[i] = token;
        }
        byte[] bytes = new SnapshotFormat().encode("refresh_tokens", 1, records.entrySet(), SnapshotFormat.Layout.ONE_LINE);
        Files.write(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS), bytes);
        return tokens;
    }

    private static String clientId(int i) {
        return "mcpc_client" + (i % 50);
    }

    static Result run(Path dir, String[] tokens, String mode, int threads, double warmupS, double measureS) throws Exception {
        int n = tokens.length;
        long fileBytes = Files.size(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS)); // the snapshot as seeded (all families)
        boolean serial = mode.equals("serial");
        if (!serial && !mode.equals("group")) throw new IllegalArgumentException("mode " + mode);
        ReentrantLock oneAtATime = new ReentrantLock(true); // serial mode: fair, so latency is queueing, not starvation
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens rt = new RefreshTokens(FileStores.grants(store), TTL);
            if (rt.size() != n) throw new IllegalStateException("seeded " + n + ", loaded " + rt.size());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong windowStart = new AtomicLong(Long.MAX_VALUE);
            AtomicLong windowEnd = new AtomicLong(Long.MAX_VALUE);
            long[][] latencies = new long[threads][];
            int[] counts = new int[threads];
            long[] failures = new long[threads];
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                Thread w = new Thread(() -> {
                    long[] lat = new long[1 << 14];
                    int c = 0;
                    int i = tt;
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        RefreshTokens.Rotation r;
                        if (serial) {
                            oneAtATime.lock();
                            try {
                                if (stop.get()) break;
                                r = rotate(rt, tokens[i], i);
                            } finally {
                                oneAtATime.unlock();
                            }
                        } else {
                            r = rotate(rt, tokens[i], i);
                        }
                        long end = System.nanoTime();
                        if (r == null) {
                            failures[tt]++;
                        } else {
                            tokens[i] = r.refreshToken(); // each chain continues with its rotated token
                            if (end >= windowStart.get() && end <= windowEnd.get()) { // completed inside the measured window
                                if (c == lat.length) lat = Arrays.copyOf(lat, c * 2);
                                lat[c++] = end - start;
                            }
                        }
                        i += threads;
                        if (i >= n) i = tt;
                    }
                    latencies[tt] = lat;
                    counts[tt] = c;
                }, "writer-" + t);
                workers.add(w);
            }
            workers.forEach(Thread::start);
            TimeUnit.MILLISECONDS.sleep((long) (warmupS * 1000));
            long commits0 = store.stats().commits();
            windowStart.set(System.nanoTime());
            TimeUnit.MILLISECONDS.sleep((long) (measureS * 1000));
            windowEnd.set(System.nanoTime());
            long commits1 = store.stats().commits();
            stop.set(true);
            for (Thread w : workers) w.join();
            int total = 0;
            for (int c : counts) total += c;
            long[] all = new long[total];
            int k = 0;
            for (int t = 0; t < threads; t++) {
                System.arraycopy(latencies[t], 0, all, k, counts[t]);
                k += counts[t];
            }
            Arrays.sort(all);
            long fails = Arrays.stream(failures).sum();
            double seconds = (windowEnd.get() - windowStart.get()) / 1e9;
            return new Result(n, mode, fileBytes, total, seconds, pct(all, 0.50), pct(all, 0.99),
                    all.length == 0 ? 0 : all[all.length - 1] / 1e6, commits1 - commits0, fails);
        }
    }

    private static RefreshTokens.Rotation rotate(RefreshTokens rt, String token, int i) {
        RefreshTokens.Rotation r = rt.rotate(token, clientId(i), Instant.now(), f -> {});
        if (r.outcome() != RefreshTokens.Outcome.ROTATED) throw new IllegalStateException("rotation " + r.outcome());
        return r;
    }

    /** Median cost of one commit's parts at this scale, measured outside the store on its current content. */
    static Cost cost(Path dir, int n) throws Exception {
        List<Map.Entry<String, RefreshFamily>> records = new ArrayList<>();
        try (FileStore store = FileStore.open(dir)) {
            for (RefreshFamily f : new RefreshTokens(FileStores.grants(store), TTL).all()) records.add(new AbstractMap.SimpleImmutableEntry<>(f.familyId(), f));
        }
        records.sort(Map.Entry.comparingByKey());
        SnapshotFormat format = new SnapshotFormat();
        int reps = n >= 100_000 ? 5 : 15;
        double[] encode = new double[reps], cached = new double[reps], write = new double[reps];
        byte[] bytes = null;
        // the proposal: each (immutable) record's JSON kept from the previous write, so a commit only concatenates
        List<byte[]> perRecord = new ArrayList<>();
        for (Map.Entry<String, RefreshFamily> e : records) {
            perRecord.add((quoted(e.getKey()) + ": " + SnapshotFormat.MAPPER.writeValueAsString(e.getValue())).getBytes(StandardCharsets.UTF_8));
        }
        Path scratch = dir.resolve("bench-scratch");
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            bytes = format.encode("refresh_tokens", r, records, SnapshotFormat.Layout.ONE_LINE);
            long t1 = System.nanoTime();
            byte[] assembled = assemble(perRecord);
            long t2 = System.nanoTime();
            if (assembled.length < bytes.length / 2) throw new IllegalStateException("assembly is not comparable");
            Path tmp = dir.resolve(".bench-tmp-" + r);
            FileOps.POSIX.writeNewAndSync(tmp, bytes);
            FileOps.POSIX.atomicMove(tmp, scratch);
            FileOps.POSIX.syncDirectory(dir);
            long t3 = System.nanoTime();
            encode[r] = (t1 - t0) / 1e6;
            cached[r] = (t2 - t1) / 1e6;
            write[r] = (t3 - t2) / 1e6;
        }
        Files.deleteIfExists(scratch);
        return new Cost(n, bytes.length, median(encode), median(cached), median(write));
    }

    /** What encode() would do with cached record bytes: header, records joined, checksum, trailer. */
    private static byte[] assemble(List<byte[]> perRecord) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        out.writeBytes(("{\n  \"format\": 1,\n  \"kind\": \"refresh_tokens\",\n  \"generation\": 1,\n  \"written_at\": \"" + Instant.now()
                + "\",\n  \"records\": {").getBytes(StandardCharsets.UTF_8));
        byte[] sep = ",\n    ".getBytes(StandardCharsets.UTF_8);
        boolean first = true;
        for (byte[] b : perRecord) {
            out.writeBytes(first ? "\n    ".getBytes(StandardCharsets.UTF_8) : sep);
            first = false;
            out.writeBytes(b);
        }
        out.writeBytes("\n  },\n".getBytes(StandardCharsets.UTF_8));
        byte[] body = out.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(body, 0, body.length - 1);
        out.writeBytes(("  \"crc32c\": \"" + Long.toHexString(crc.getValue()) + "\"\n}\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static String quoted(String s) throws IOException {
        return SnapshotFormat.MAPPER.writeValueAsString(s);
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static double median(double[] xs) {
        double[] c = xs.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    static String markdown(List<Result> results, List<Cost> costs, int threads, double warmup, double measure, Path base, String fsType,
                           String load) {
        StringBuilder sb = new StringBuilder();
        Runtime rt = Runtime.getRuntime();
        sb.append("# FileStore benchmark: durable refresh-token rotations\n\n");
        sb.append("- Date: ").append(DateTimeFormatter.ISO_INSTANT.format(Instant.now().atOffset(ZoneOffset.UTC).withNano(0))).append('\n');
        sb.append("- Processors (Runtime.availableProcessors): ").append(rt.availableProcessors()).append('\n');
        sb.append("- JVM: ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.runtime.version"))
                .append(", max heap ").append(rt.maxMemory() / (1024 * 1024)).append(" MiB\n");
        sb.append("- OS: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append("; data directory on ").append(fsType).append(" (").append(base).append(")\n");
        String note = System.getProperty("bench.note", "");
        if (!note.isBlank()) sb.append("- Note: ").append(note).append('\n');
        if (!load.isEmpty()) {
            sb.append("- Load average (1/5/15 min) during the run: ").append(load)
                    .append(" (other processes share these cores; expect noise)\n");
        }
        sb.append("- Each case: ").append(threads).append(" writer threads, ").append(fmt(warmup)).append(" s warm-up, ")
                .append(fmt(measure)).append(" s measured. Thread t owns the families i with i mod ").append(threads)
                .append(" = t and rotates them in turn, continuing each chain with the token the rotation returned. ")
                .append("A rotation counts when `RefreshTokens.rotate` returned ROTATED, i.e. once the store made it durable ")
                .append("(a journal frame appended and fdatasynced, as the store is built now; background compaction rewrites the ")
                .append("snapshot meanwhile). Latency is per call, as a token request would see it.\n");
        sb.append("- Families are seeded in steady state (a previous token and 5 retired hashes each), so the file size is what a ")
                .append("long-running server would have.\n");
        sb.append("- **group**: the store as built (group commit: one write carries every rotation that arrived while the previous ")
                .append("write was in progress). **serial**: the same store with one fair global lock around each `rotate` call, so ")
                .append("every rotation waits for its own complete write and sync: one write per operation.\n\n");

        sb.append("| Families | File size | Mode | Rotations/s | p50 ms | p99 ms | max ms | Rotations measured | Rotations per write | Writes/s |\n");
        sb.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %s | %,.0f | %.1f | %.1f | %.1f | %,d | %.1f | %,.1f |%n", r.families(),
                    size(r.fileBytes()), r.mode(), r.perSecond(), r.p50(), r.p99(), r.max(), r.ops(), r.opsPerCommit(),
                    r.commits() / r.seconds()));
        }
        if (results.stream().anyMatch(r -> r.failures() > 0)) sb.append("\nSome rotations failed; see the log.\n");
        if (!costs.isEmpty()) {
            sb.append("\n## Cost of one whole-file snapshot write (compaction, clean stop, recovery after a failed write, and every ")
                    .append("commit of the non-journaled files), median, measured separately on the same data\n\n");
            sb.append("| Families | File size | encode (now) ms | encode from cached record bytes ms | write + fsync + rename + fsync(dir) ms |\n");
            sb.append("|---:|---:|---:|---:|---:|\n");
            for (Cost c : costs) {
                sb.append(String.format(Locale.ROOT, "| %,d | %s | %.2f | %.2f | %.2f |%n", c.families(), size(c.fileBytes()), c.encodeMs(),
                        c.cachedEncodeMs(), c.writeMs()));
            }
            sb.append("\n\"Encode from cached record bytes\" is a prototype of a possible speed-up, not what the store does: records ")
                    .append("are immutable, so each record's JSON could be kept from the previous write and only changed records ")
                    .append("re-encoded; a commit would then only concatenate bytes and compute the CRC.\n");
        }
        sb.append(beforeAndAfter(results));
        results.stream().filter(r -> r.families() == 10_000 && r.mode().equals("group")).findFirst().ifPresent(r -> {
            boolean tput = r.perSecond() >= 2000, lat = r.p99() < 50;
            sb.append("\n## Design goal: at least 2,000 durable rotations/s at 10k families with p99 under 50 ms\n\n");
            sb.append(String.format(Locale.ROOT, "Measured with group commit: %,.0f rotations/s (%s), p99 %.1f ms (%s): **%s**.%n",
                    r.perSecond(), tput ? "met" : "not met", r.p99(), lat ? "met" : "not met", tput && lat ? "goal met" : "goal not met"));
        });
        return sb.toString();
    }

    /**
     * This run's group-commit rows next to those of {@code bench/results/store-before-journal.md} (the same benchmark when
     * every commit rewrote the whole file), when that file is there.
     */
    static String beforeAndAfter(List<Result> results) {
        Path before = Path.of("bench/results/store-before-journal.md");
        Map<Integer, String[]> old = new TreeMap<>();
        try {
            for (String line : Files.readAllLines(before)) {
                String[] c = line.split("\\|");
                if (c.length > 7 && c[3].trim().equals("group")) old.put(Integer.parseInt(c[1].trim().replace(",", "")), c);
            }
        } catch (IOException | RuntimeException e) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\n## Before and after the journal (group commit, same benchmark)\n\n");
        sb.append("Before: every commit rewrote the whole file (" + before.getFileName() + "). After: this run.\n\n");
        sb.append("| Families | Before: rotations/s | Before: p99 ms | After: rotations/s | After: p99 ms |\n|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            String[] b = old.get(r.families());
            if (b == null || !r.mode().equals("group")) continue;
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %s | %,.0f | %.1f |%n", r.families(), b[4].trim(), b[6].trim(), r.perSecond(), r.p99()));
        }
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return p[0] + " / " + p[1] + " / " + p[2];
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String size(long bytes) {
        if (bytes >= 1 << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
        return String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
