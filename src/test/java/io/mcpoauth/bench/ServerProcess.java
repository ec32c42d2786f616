package io.mcpoauth.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server under test as a child JVM ({@code java -cp <this classpath> io.mcpoauth.Main serve}) with a fixed heap,
 * so that its heap, cold start and restarts are its own and the load generator does not share them. The environment
 * is cleared except for PATH and HOME, and the working directory holds no {@code .env}.
 */
final class ServerProcess implements AutoCloseable {
    private static final Path JAVA_BIN = Path.of(System.getProperty("java.home"), "bin");

    final Process process;
    final long spawnNanos;
    final Path log;
    final int port;

    private ServerProcess(Process process, long spawnNanos, Path log, int port) {
        this.process = process;
        this.spawnNanos = spawnNanos;
        this.log = log;
        this.port = port;
    }

    /** Spawns the server on {@code dataDir}; {@code jfr} (a file, or null) records a flight recording; {@code jvmArgs} go to its JVM. */
    static ServerProcess start(Path dataDir, int port, String heap, Path log, Path jfr, List<String> jvmArgs) throws IOException {
        return start(dataDir, port, heap, log, jfr, jvmArgs, Map.of());
    }

    /** Like the above, with {@code extraEnv} over the defaults (STORE=postgres, DATABASE_URL, a shared PUBLIC_URL...). */
    static ServerProcess start(Path dataDir, int port, String heap, Path log, Path jfr, List<String> jvmArgs, Map<String, String> extraEnv)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(JAVA_BIN.resolve("java").toString(), "-Xmx" + heap));
        cmd.addAll(jvmArgs);
        if (jfr != null) cmd.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        cmd.addAll(List.of("-cp", absoluteClassPath(), "io.mcpoauth.Main", "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dataDir.getParent().toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        String path = env.get("PATH");
        String home = env.get("HOME");
        env.clear();
        if (path != null) env.put("PATH", path);
        if (home != null) env.put("HOME", home);
        env.put("PORT", Integer.toString(port));
        env.put("HOST", "127.0.0.1");
        env.put("PUBLIC_URL", "http://127.0.0.1:" + port);
        env.put("OAUTH_DATA_DIR", dataDir.toAbsolutePath().toString());
        env.put("LOG_LEVEL", "warn");
        // the load generator is one address standing for thousands of clients: the per-address connection cap would close
        // all but 64 of the herd's connections
        env.put("MAX_CONNECTIONS_PER_ADDRESS", "100000");
        env.putAll(extraEnv);
        long t0 = System.nanoTime();
        return new ServerProcess(pb.start(), t0, log, port);
    }

    /** This JVM's class path with absolute entries: the server runs in another working directory. */
    private static String absoluteClassPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) out.add(Path.of(e).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    long pid() {
        return process.pid();
    }

    /** Polls {@code /healthz} on fresh connections; the milliseconds from spawn to the first 200. */
    double awaitHealthy(long timeoutMillis) throws IOException, InterruptedException {
        byte[] req = HttpConn.get("127.0.0.1:" + port, "/healthz");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IOException("the server exited with " + process.exitValue() + "; see " + log);
            try (HttpConn c = new HttpConn("127.0.0.1", port)) {
                if (c.send(req).status() == 200) return (System.nanoTime() - spawnNanos) / 1e6;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(2);
        }
        throw new IOException("the server did not answer /healthz within " + timeoutMillis + " ms; see " + log);
    }

    /** Heap in use right after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}), in bytes. */
    long heapAfterFullGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
        if (!m.find()) throw new IOException("cannot read GC.heap_info: " + info);
        return Long.parseLong(m.group(1)) * 1024;
    }

    /** The {@code top} largest lines of {@code jcmd GC.class_histogram} (no GC first: call after {@link #heapAfterFullGc}). */
    List<String> histogram(int top) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        for (String line : jcmd("GC.class_histogram", "-all").split("\n")) {
            if (line.matches("\\s*\\d+:.*") && out.size() < top) out.add(line.trim());
            if (line.startsWith("Total")) out.add(line.trim());
        }
        return out;
    }

    private String jcmd(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(JAVA_BIN.resolve("jcmd").toString(), Long.toString(pid())));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("jcmd " + String.join(" ", args) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** CPU time (user + system) the server has used so far, in seconds; -1 when /proc is not there. */
    double cpuSeconds() {
        return procCpuSeconds(pid());
    }

    static double procCpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** SIGTERM (a clean stop: final snapshot), waiting up to 60 s. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) kill();
    }

    /** SIGKILL: no shutdown hook, no final snapshot. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }
}
