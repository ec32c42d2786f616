package io.mcpoauth.bench;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.file.DurableMap;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.file.SnapshotFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code tools/call} of a trivial upstream tool (server-everything's {@code echo}) through the gateway against the same
 * call made directly to the same upstream, side by side in one run, for both transports:
 *
 * <ul>
 *   <li>HTTP: server-everything's own Streamable HTTP transport ({@code node dist/index.js streamableHttp}); direct = the
 *       load generator speaks MCP to it (initialize, then {@code tools/call} with its {@code Mcp-Session-Id}); through
 *       the gateway = the same requests to {@code /mcp/ev-http} with a bearer token.</li>
 *   <li>stdio: direct = the load generator starts its own {@code node dist/index.js stdio} and speaks newline-delimited
 *       JSON-RPC over its pipes, with as many requests in flight as there are connections (what the gateway does with
 *       its one shared process); through the gateway = HTTP to {@code /mcp/ev-stdio}, whose shared child is the same
 *       program.</li>
 * </ul>
 *
 * Targets: the gateway keeps at least 80% of the direct throughput and adds less than 2 ms at the median (one
 * connection, so that the latency is not queueing). The gateway is a child JVM ({@link ServerProcess}); everything runs
 * on the same cores, whose load is reported. {@code -Dbench.quick=true}: short phases.
 */
public final class GatewayBench {
    static final String HOST = "127.0.0.1";
    static final boolean QUICK = Boolean.getBoolean("bench.quick");
    static final double WARMUP = Double.parseDouble(System.getProperty("bench.warmup", QUICK ? "2" : "5"));
    static final double MEASURE = Double.parseDouble(System.getProperty("bench.measure", QUICK ? "4" : "15"));
    /**
     * Before anything is measured, each of the four paths runs this long at 16 connections, unrecorded: enough calls for
     * the JVM's (and node's) optimizing compilers to have compiled the hot paths, so that the figures are steady-state
     * ones rather than the cost of code still interpreted (C2 compiles a method after some 10,000 calls; a 5 s phase at
     * one connection makes about 1,500).
     */
    static final double JIT_WARMUP = Double.parseDouble(System.getProperty("bench.jitWarmup", QUICK ? "3" : "20"));
    /** The gateway JVM's options (-Dbench.gatewayJvm="..."); default none: the full JIT. */
    static final List<String> GATEWAY_JVM = List.of(System.getProperty("bench.gatewayJvm", "").split(" ")).stream()
            .filter(a -> !a.isBlank()).toList();
    static final int[] CONNECTIONS = java.util.Arrays.stream(System.getProperty("bench.connections", "1,16").split(",")).mapToInt(Integer::parseInt).toArray();
    /** Only the phases whose name starts with one of these (comma-separated, e.g. "http"), for profiling one path. */
    static final List<String> ONLY = List.of(System.getProperty("bench.only", "").split(","));
    static final String PROTOCOL = "2025-11-25";
    static final Path E2E = Path.of("e2e").toAbsolutePath();
    static final Path EVERYTHING = E2E.resolve("node_modules/@modelcontextprotocol/server-everything/dist/index.js");

    public static void main(String[] args) throws Exception {
        if (!Files.isRegularFile(EVERYTHING)) {
            System.err.println("GatewayBench: " + EVERYTHING + " is missing: run e2e/setup.sh (npm ci in e2e/) first");
            System.exit(2);
        }
        String node = which("node");
        Path base = Path.of("target/gatewaybench").toAbsolutePath();
        deleteTree(base);
        Files.createDirectories(base);
        String loadBefore = loadAverage();
        String uptimeBefore = uptime();
        long runStart = System.nanoTime();

        int upstreamPort = freePort();
        ProcessBuilder upb = new ProcessBuilder(node, EVERYTHING.toString(), "streamableHttp").redirectErrorStream(true)
                .redirectOutput(base.resolve("upstream.log").toFile()).directory(base.toFile());
        upb.environment().put("PORT", Integer.toString(upstreamPort));
        Process upstream = upb.start();
        awaitPort(upstreamPort, upstream, 20_000);
        String upstreamUrl = "http://" + HOST + ":" + upstreamPort + "/mcp";

        int port = freePort();
        Path data = base.resolve("data");
        Path servers = base.resolve("mcp-servers.json");
        String caps = "\"max_concurrent\": 256, \"max_concurrent_per_user\": 256, \"timeout_seconds\": 60";
        Files.writeString(servers, "{\"servers\": {\n"
                + "  \"ev-http\": {\"url\": \"" + upstreamUrl + "\", " + caps + "},\n"
                + "  \"ev-stdio\": {\"command\": \"" + node + "\", \"args\": [\"" + EVERYTHING + "\", \"stdio\"], " + caps + "}\n}}\n");
        Map<String, String> tokens = seed(data, port, List.of("/mcp/ev-http", "/mcp/ev-stdio"));

        Map<String, Result> results = new LinkedHashMap<>();
        Process direct = null;
        String jfr = System.getProperty("bench.jfr"); // a file: the gateway records a flight recording (profiling)
        try (ServerProcess gw = ServerProcess.start(data, port, "1g", base.resolve("gateway.log"), jfr == null ? null : Path.of(jfr).toAbsolutePath(), GATEWAY_JVM,
                Map.of("MCP_SERVERS_FILE", servers.toString()))) {
            gw.awaitHealthy(30_000);
            Map<String, String> access = new LinkedHashMap<>();
            try (HttpConn c = new HttpConn(HOST, port)) {
                for (Map.Entry<String, String> e : tokens.entrySet()) {
                    HttpConn.Response r = c.send(HttpConn.post(HOST + ":" + port, "/token", "application/x-www-form-urlencoded", "",
                            "grant_type=refresh_token&refresh_token=" + e.getValue() + "&client_id=" + clientId));
                    if (r.status() != 200) throw new IOException("refresh for " + e.getKey() + ": " + r.status() + " " + r.text());
                    access.put(e.getKey(), r.jsonString("access_token"));
                }
            }
            ProcessBuilder spb = new ProcessBuilder(node, EVERYTHING.toString(), "stdio").redirectError(base.resolve("direct-stdio.log").toFile())
                    .directory(base.toFile());
            spb.environment().keySet().retainAll(List.of("PATH", "HOME"));
            direct = spb.start();
            StdioClient stdio = new StdioClient(direct);
            stdio.initialize();

            List<Long> upstreamPids = List.of(upstream.pid());
            if (JIT_WARMUP > 0) {
                if (only("http")) load(16, () -> new HttpSession(HOST, upstreamPort, "/mcp", null), upstreamPids, List.of(), JIT_WARMUP, 0);
                if (only("http")) load(16, () -> new HttpSession(HOST, port, "/mcp/ev-http", access.get("/mcp/ev-http")), upstreamPids, List.of(gw.pid()),
                        JIT_WARMUP, 0);
                if (only("stdio")) load(16, () -> stdio, List.of(direct.pid()), List.of(), JIT_WARMUP, 0);
                if (only("stdio")) load(16, () -> new HttpSession(HOST, port, "/mcp/ev-stdio", access.get("/mcp/ev-stdio")), List.of(), List.of(gw.pid()),
                        JIT_WARMUP, 0);
            }
            for (int conns : CONNECTIONS) {
                // two rounds, alternating direct and gateway, so that a change in the machine's load hits both
                for (int round = 0; round < 2; round++) {
                    if (only("http")) add(results, "http direct " + conns, load(conns, () -> new HttpSession(HOST, upstreamPort, "/mcp", null), upstreamPids, List.of()));
                    if (only("http")) add(results, "http gateway " + conns, load(conns, () -> new HttpSession(HOST, port, "/mcp/ev-http", access.get("/mcp/ev-http")),
                            upstreamPids, List.of(gw.pid())));
                    if (only("stdio")) add(results, "stdio direct " + conns, load(conns, () -> stdio, List.of(direct.pid()), List.of()));
                    if (only("stdio")) add(results, "stdio gateway " + conns, load(conns, () -> new HttpSession(HOST, port, "/mcp/ev-stdio", access.get("/mcp/ev-stdio")),
                            List.of(), List.of(gw.pid())));
                }
            }
            gw.stop();
        } finally {
            if (direct != null) direct.destroyForcibly();
            upstream.destroyForcibly();
        }
        String report = report(results, loadBefore, uptimeBefore, loadAverage(), uptime(), (System.nanoTime() - runStart) / 1e9);
        Path out = Path.of("bench/results/gateway" + (QUICK ? "-quick" : "") + ".md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        System.out.println(report);
        System.out.println("Written to " + out);
    }

    static boolean only(String transport) {
        return ONLY.stream().anyMatch(o -> o.isEmpty() || o.equals(transport));
    }

    static String clientId;

    /** One user, one public client, one refresh-token family per resource, through the store (as HttpBench seeds). */
    static Map<String, String> seed(Path dir, int port, List<String> resources) throws IOException {
        Instant now = Instant.now();
        Map<String, String> tokens = new LinkedHashMap<>();
        String userId = UserRecord.localId("benchuser");
        clientId = Secrets.mint(Secrets.CLIENT_ID);
        try (FileStore store = FileStore.open(dir)) {
            DurableMap<UserRecord> u = store.map(FileStores.USERS, "users", UserRecord.class, SnapshotFormat.Layout.INDENTED);
            DurableMap<ClientRecord> c = store.map(FileStores.CLIENTS, "clients", ClientRecord.class, SnapshotFormat.Layout.INDENTED);
            DurableMap<RefreshFamily> r = store.journaledMap(FileStores.REFRESH_TOKENS, "refresh_tokens", RefreshFamily.class, SnapshotFormat.Layout.ONE_LINE);
            u.update(tx -> {
                tx.put(userId, new UserRecord(userId, "benchuser", "local", "benchuser", null, null, null, null, now, null));
                return null;
            });
            c.update(tx -> {
                tx.put(clientId, new ClientRecord(clientId, "Gateway bench client", List.of("http://127.0.0.1:33418/callback"),
                        List.of("authorization_code", "refresh_token"), List.of("code"), "none", null, null, null, null, now, now, null,
                        Secrets.hash(Secrets.mint(Secrets.REGISTRATION_TOKEN))));
                return null;
            });
            r.update(tx -> {
                for (String path : resources) {
                    String id = Secrets.randomString(16);
                    String token = Secrets.REFRESH_TOKEN + id + "." + Secrets.randomString(32);
                    tx.put(id, new RefreshFamily(id, clientId, userId, "mcp", "http://" + HOST + ":" + port + path, Secrets.hash(token), null,
                            List.of(), now, now, now.plus(Duration.ofDays(30)), 0));
                    tokens.put(path, token);
                }
                return null;
            });
        }
        return tokens;
    }

    // ---- the two kinds of client ----

    /** Something that calls {@code echo} once and says whether the answer was right. */
    interface Caller extends AutoCloseable {
        boolean echo(String message) throws IOException;

        @Override
        default void close() {}
    }

    interface CallerFactory {
        Caller open() throws IOException;
    }

    /** One keep-alive connection speaking MCP Streamable HTTP: initialize (keeping the session id when one is given), then calls. */
    static final class HttpSession implements Caller {
        private final HttpConn conn;
        private final String host;
        private final String path;
        private final String auth;
        private int id;

        HttpSession(String host, int port, String path, String bearer) throws IOException {
            this.conn = new HttpConn(host, port);
            this.host = host + ":" + port;
            this.path = path;
            this.auth = bearer == null ? "" : "Authorization: Bearer " + bearer + "\r\n";
            HttpConn.Response r = conn.send(post("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + PROTOCOL
                    + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"gateway-bench\",\"version\":\"1\"}}}"));
            if (r.status() != 200 || !r.text().contains("\"result\"")) throw new IOException("initialize at " + path + ": " + r.status() + " " + r.text());
            HttpConn.Response n = conn.send(post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
            if (n.status() != 202 && n.status() != 200) throw new IOException("initialized at " + path + ": " + n.status() + " " + n.text());
        }

        private byte[] post(String body) {
            String session = conn.sessionId == null ? "" : "Mcp-Session-Id: " + conn.sessionId + "\r\n";
            return HttpConn.post(host, path, "application/json", auth + session + "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: "
                    + PROTOCOL + "\r\n", body);
        }

        @Override
        public boolean echo(String message) throws IOException {
            HttpConn.Response r = conn.send(post("{\"jsonrpc\":\"2.0\",\"id\":" + (++id) + ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                    + "\"arguments\":{\"message\":\"" + message + "\"}}}"));
            String t = r.text();
            return r.status() == 200 && t.contains("\"result\"") && t.contains(message) && !t.contains("\"isError\":true");
        }

        @Override
        public void close() {
            conn.close();
        }
    }

    /** One stdio child shared by every caller: requests multiplexed by id, answers dispatched by a reader thread. */
    static final class StdioClient implements Caller {
        private final OutputStream in;
        private final Map<Long, CompletableFuture<String>> waiting = new ConcurrentHashMap<>();
        private final AtomicLong ids = new AtomicLong();

        StdioClient(Process p) {
            this.in = p.getOutputStream();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null;) {
                        int i = line.indexOf("\"id\":");
                        if (i < 0) continue;
                        int j = i + 5;
                        int k = j;
                        while (k < line.length() && Character.isDigit(line.charAt(k))) k++;
                        if (k == j) continue;
                        CompletableFuture<String> f = waiting.remove(Long.parseLong(line.substring(j, k)));
                        if (f != null) f.complete(line);
                    }
                } catch (IOException ignored) {
                    // the child went away
                }
                waiting.values().forEach(f -> f.completeExceptionally(new IOException("the stdio server exited")));
            }, "stdio-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private String call(String method, String params) throws IOException {
            long id = ids.incrementAndGet();
            CompletableFuture<String> f = new CompletableFuture<>();
            waiting.put(id, f);
            byte[] line = ("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}\n").getBytes(StandardCharsets.UTF_8);
            synchronized (in) {
                in.write(line);
                in.flush();
            }
            try {
                return f.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                waiting.remove(id);
                throw new IOException("stdio " + method + ": " + e, e);
            }
        }

        void initialize() throws IOException {
            String r = call("initialize", "{\"protocolVersion\":\"" + PROTOCOL + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"gateway-bench\",\"version\":\"1\"}}");
            if (!r.contains("\"result\"")) throw new IOException("stdio initialize: " + r);
            synchronized (in) {
                in.write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
            }
        }

        @Override
        public boolean echo(String message) throws IOException {
            String r = call("tools/call", "{\"name\":\"echo\",\"arguments\":{\"message\":\"" + message + "\"}}");
            return r.contains("\"result\"") && r.contains(message) && !r.contains("\"isError\":true");
        }
    }

    // ---- load ----

    record Result(long ops, long errors, double seconds, long[] sortedNanos, double cpuUpstream, double cpuGateway, double cpuGenerator) {
        double rate() {
            return ops / seconds;
        }

        double pct(double p) {
            if (sortedNanos.length == 0) return Double.NaN;
            return sortedNanos[Math.min(sortedNanos.length - 1, (int) Math.floor(p * sortedNanos.length))] / 1e6;
        }

        Result plus(Result o) {
            long[] all = Arrays.copyOf(sortedNanos, sortedNanos.length + o.sortedNanos.length);
            System.arraycopy(o.sortedNanos, 0, all, sortedNanos.length, o.sortedNanos.length);
            Arrays.sort(all);
            double s = seconds + o.seconds;
            return new Result(ops + o.ops, errors + o.errors, s, all, (cpuUpstream * seconds + o.cpuUpstream * o.seconds) / s,
                    (cpuGateway * seconds + o.cpuGateway * o.seconds) / s, (cpuGenerator * seconds + o.cpuGenerator * o.seconds) / s);
        }
    }

    static void add(Map<String, Result> results, String key, Result r) {
        results.merge(key, r, Result::plus);
    }

    /** {@code threads} callers calling {@code echo} in a loop: warm-up unmeasured, then measured; CPU of the given processes (and their children). */
    static Result load(int threads, CallerFactory factory, List<Long> upstreamPids, List<Long> gatewayPids) throws Exception {
        return load(threads, factory, upstreamPids, gatewayPids, WARMUP, MEASURE);
    }

    static Result load(int threads, CallerFactory factory, List<Long> upstreamPids, List<Long> gatewayPids, double warmup, double measure)
            throws Exception {
        AtomicInteger phase = new AtomicInteger();
        long[][] lat = new long[threads][];
        int[] counts = new int[threads];
        long[] errors = new long[threads];
        List<Thread> workers = new ArrayList<>();
        List<Caller> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) callers.add(factory.open());
        for (int t = 0; t < threads; t++) {
            int tt = t;
            Caller caller = callers.get(t);
            workers.add(new Thread(() -> {
                long[] l = new long[1 << 12];
                int c = 0;
                int seq = 0;
                int p;
                while ((p = phase.get()) < 2) {
                    String msg = "m" + tt + "-" + (seq++);
                    long t0 = System.nanoTime();
                    boolean ok;
                    try {
                        ok = caller.echo(msg);
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
                lat[tt] = l;
                counts[tt] = c;
            }, "echo-" + t));
        }
        workers.forEach(Thread::start);
        TimeUnit.MILLISECONDS.sleep((long) (warmup * 1000));
        double u0 = cpu(upstreamPids), g0 = cpu(gatewayPids), me0 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        phase.set(1);
        TimeUnit.MILLISECONDS.sleep((long) (measure * 1000));
        phase.set(2);
        long t1 = System.nanoTime();
        double u1 = cpu(upstreamPids), g1 = cpu(gatewayPids), me1 = ServerProcess.procCpuSeconds(ProcessHandle.current().pid());
        for (Thread w : workers) w.join();
        for (Caller c : callers) c.close();
        if (measure <= 0) return null; // a warm-up only
        double seconds = (t1 - t0) / 1e9;
        long[] all = new long[Arrays.stream(counts).sum()];
        int k = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(lat[t], 0, all, k, counts[t]);
            k += counts[t];
        }
        Arrays.sort(all);
        return new Result(all.length, Arrays.stream(errors).sum(), seconds, all, (u1 - u0) / seconds, (g1 - g0) / seconds, (me1 - me0) / seconds);
    }

    /** CPU seconds of the processes and all their descendants (the gateway's stdio children count as upstream work inside it). */
    static double cpu(List<Long> pids) {
        double sum = 0;
        for (long pid : pids) {
            sum += ServerProcess.procCpuSeconds(pid);
            for (ProcessHandle d : ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of())) sum += ServerProcess.procCpuSeconds(d.pid());
        }
        return sum;
    }

    // ---- report ----

    static String report(Map<String, Result> r, String loadBefore, String uptimeBefore, String loadAfter, String uptimeAfter, double wall) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Gateway benchmark: `tools/call echo` through the gateway against the same upstream directly\n\n");
        sb.append("- Date: ").append(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)).append('\n');
        sb.append("- Command: `./run.sh bench` (this part alone: `java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.mcpoauth.bench.GatewayBench`")
                .append(QUICK ? ", with `-Dbench.quick=true`" : "").append(")\n");
        sb.append("- Cores (Runtime.availableProcessors): ").append(Runtime.getRuntime().availableProcessors())
                .append(", shared by the gateway JVM, the node upstreams and the load generator\n");
        sb.append("- JVM: ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.vm.version"))
                .append("; gateway: a child JVM (`-Xmx1g`, default JIT, `LOG_LEVEL=warn`); upstream: `@modelcontextprotocol/server-everything` 2026.8.31 on ")
                .append(nodeVersion()).append('\n');
        sb.append("- Machine load: `uptime` before: ").append(uptimeBefore).append("; after: ").append(uptimeAfter).append('\n');
        sb.append("- Load average (1/5/15 min): ").append(loadBefore).append(" before, ").append(loadAfter)
                .append(" after (other processes share these cores)\n");
        sb.append("- Before the phases: ").append(fmt(JIT_WARMUP)).append(" s at 16 connections on each of the four paths, not recorded (the JIT's warm-up)\n");
        sb.append("- Phases: ").append(fmt(WARMUP)).append(" s warm-up, ").append(fmt(MEASURE))
                .append(" s measured, two rounds alternating direct and gateway, summed\n");
        sb.append("- Whole run: ").append(Math.round(wall)).append(" s\n\n");
        sb.append("| Transport | Connections | Direct /s | Gateway /s | Ratio | Direct p50 / p99 ms | Gateway p50 / p99 ms | Added p50 / p99 ms | Errors (d/g) | Target met? |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (String transport : List.of("http", "stdio")) {
            for (int conns : CONNECTIONS) {
                Result d = r.get(transport + " direct " + conns);
                Result g = r.get(transport + " gateway " + conns);
                if (d == null || g == null) continue; // left out with -Dbench.only
                double ratio = g.rate() / d.rate();
                double addP50 = g.pct(0.5) - d.pct(0.5);
                double addP99 = g.pct(0.99) - d.pct(0.99);
                boolean met = conns == 1 ? addP50 < 2 && ratio >= 0.8 : ratio >= 0.8;
                sb.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %,.0f | %.0f%% | %.2f / %.2f | %.2f / %.2f | %+.2f / %+.2f | %d / %d | %s |%n",
                        transport, conns, d.rate(), g.rate(), ratio * 100, d.pct(0.5), d.pct(0.99), g.pct(0.5), g.pct(0.99), addP50, addP99,
                        d.errors(), g.errors(), met ? "yes" : "**no**"));
            }
        }
        sb.append("\nTargets: throughput through the gateway at least 80% of direct; added median latency under 2 ms (judged at one connection, where ")
                .append("the latency is the path itself and not queueing; at 16 connections only the ratio is judged).\n\n");
        sb.append("CPU (cores busy during the measured phases; upstream = the node process(es), gateway = the JVM and its stdio children):\n\n");
        sb.append("| Phase | Upstream | Gateway | Load generator |\n|---|---:|---:|---:|\n");
        for (Map.Entry<String, Result> e : r.entrySet()) {
            Result x = e.getValue();
            sb.append(String.format(Locale.ROOT, "| %s | %.0f%% | %.0f%% | %.0f%% |%n", e.getKey(), x.cpuUpstream() * 100, x.cpuGateway() * 100, x.cpuGenerator() * 100));
        }
        sb.append("\n## What is compared\n\n");
        sb.append("- **HTTP**: server-everything's Streamable HTTP transport on loopback. Direct: each connection initializes its own session ")
                .append("(`initialize`, `notifications/initialized`, then `tools/call echo` with `Mcp-Session-Id`), HTTP/1.1 keep-alive. Gateway: the same ")
                .append("requests to `/mcp/ev-http` with `Authorization: Bearer` (an access token for that resource); the gateway keeps its own session ")
                .append("with the upstream per user. server-everything answers `tools/call` as a one-event SSE stream; the generator reads it whole.\n");
        sb.append("- **stdio**: the baseline is the same program (`node dist/index.js stdio`) spoken to directly by the load generator over its pipes ")
                .append("(newline-delimited JSON-RPC), one process shared by every connection with the requests multiplexed by id, which is what the ")
                .append("gateway does with its shared child. Through the gateway: HTTP to `/mcp/ev-stdio`. So the stdio gateway figure includes an HTTP hop ")
                .append("that the direct stdio figure does not have: it is the cost of turning a local stdio server into a protected remote one.\n");
        sb.append("- The upstream is single-threaded node: at 16 connections both sides are bounded by it and by the shared cores, so the ratio ")
                .append("says how much of the machine the gateway takes away from the upstream.\n");
        return sb.toString();
    }

    // ---- small helpers ----

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    static String which(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p.toString();
        }
        return program;
    }

    static String nodeVersion() {
        try {
            Process p = new ProcessBuilder(which("node"), "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return "node " + v;
        } catch (IOException | InterruptedException e) {
            return "node";
        }
    }

    static void awaitPort(int port, Process p, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IOException("the upstream exited with " + p.exitValue());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("the upstream did not listen on " + port + " within " + timeoutMillis + " ms");
    }

    static String uptime() {
        try {
            Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return "`" + v + "`";
        } catch (IOException | InterruptedException e) {
            return "?";
        }
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
