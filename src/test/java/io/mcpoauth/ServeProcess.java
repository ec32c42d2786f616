package io.mcpoauth;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * {@code java -cp <test classpath> io.mcpoauth.Main serve} as a child process: a server that holds the data directory's
 * lock from another process, as in production. Started in its own working directory with only the given settings
 * in its environment; ready once it prints "Listening on" (bounded wait).
 */
public final class ServeProcess implements AutoCloseable {
    private static final String EOF = "\u0000EOF";

    public final Process process;
    public final int port;
    public final String url;
    public final Path dataDir;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> output = new ArrayList<>();

    private ServeProcess(Process process, int port, Path dataDir) {
        this.process = process;
        this.port = port;
        this.url = "http://127.0.0.1:" + port;
        this.dataDir = dataDir;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (output) {
                        output.add(l);
                    }
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // the process ended
            } finally {
                lines.add(EOF);
            }
        }, "serve-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** The settings the child gets (and a command in this JVM needs to find the same data directory). */
    public static Map<String, String> env(int port, Path dataDir, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>();
        env.put("PORT", String.valueOf(port));
        env.put("HOST", "127.0.0.1");
        env.put("PUBLIC_URL", "http://127.0.0.1:" + port);
        env.put("OAUTH_DATA_DIR", dataDir.toAbsolutePath().toString());
        env.put("LOG_LEVEL", "info");
        env.putAll(extra);
        return env;
    }

    /** Starts the child in {@code workDir} (no .env there) and waits up to a minute for "Listening on". */
    public static ServeProcess start(Path workDir, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(javaBinary(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath(), Main.class.getName(), "serve");
        pb.directory(workDir.toFile());
        pb.redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().putAll(env);
        ServeProcess p = new ServeProcess(pb.start(), Integer.parseInt(env.get("PORT")), Path.of(env.get("OAUTH_DATA_DIR")));
        try {
            p.awaitLine("Listening on", Duration.ofSeconds(60));
        } catch (AssertionError | InterruptedException e) {
            p.process.destroyForcibly();
            throw e;
        }
        return p;
    }

    /** Waits (bounded) for a line containing {@code text}. */
    public String awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String l = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (l == null) throw new AssertionError("no line with '" + text + "' within " + timeout + "; output:\n" + output());
            if (l.equals(EOF)) {
                lines.add(EOF);
                throw new AssertionError("the server ended without '" + text + "'; output:\n" + output());
            }
            if (l.contains(text)) return l;
        }
    }

    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM, as an operator stops it; waits (bounded) for the clean stop. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the server did not stop within 30 s after SIGTERM; output:\n" + output());
        }
    }

    /** SIGKILL: no shutdown hook runs. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the server survived SIGKILL");
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }

    /** The java binary running these tests, for child JVMs. */
    public static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The test classpath (surefire may hand the JVM a manifest-only jar; then the entries are in its Class-Path). */
    public static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        if (surefire != null && !surefire.isBlank()) return surefire;
        String cp = System.getProperty("java.class.path");
        String[] parts = cp.split(File.pathSeparator);
        if (parts.length == 1 && parts[0].endsWith(".jar")) {
            try (JarFile jar = new JarFile(parts[0])) {
                Manifest m = jar.getManifest();
                String manifestCp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                if (manifestCp != null && !manifestCp.isBlank()) {
                    List<String> entries = new ArrayList<>();
                    Path base = Paths.get(parts[0]).toAbsolutePath().getParent();
                    for (String e : manifestCp.trim().split("\\s+")) entries.add(Paths.get(base.toUri().resolve(URI.create(e))).toString());
                    return String.join(File.pathSeparator, entries);
                }
            } catch (IOException | RuntimeException ignored) {
                // fall back to the plain class path
            }
        }
        return cp;
    }
}
