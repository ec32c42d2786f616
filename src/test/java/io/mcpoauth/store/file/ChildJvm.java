package io.mcpoauth.store.file;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child JVM running {@link StoreChild}, launched with the current {@code java} binary and the test classpath.
 * Its stdout is read line by line on a daemon thread; stderr goes to a file (printed when a test fails).
 */
final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";

    final Process process;
    final Path stderr;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private volatile IOException readFailure;

    private ChildJvm(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) lines.add(line);
            } catch (IOException e) {
                readFailure = e; // reported by nextLine: lines may have been lost
            } finally {
                lines.add(EOF);
            }
        }, "child-stdout-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code StoreChild args...}; with {@code umask} set, through {@code bash -c 'umask X && exec java ...'}. */
    static ChildJvm start(Path stderrFile, String umask, String... args) throws IOException {
        return startWrapped(stderrFile, List.of(), classpath(), umask, args);
    }

    /** As above, with {@code wrapper} (e.g. setpriv ...) before the java command and an explicit class path. */
    static ChildJvm startWrapped(Path stderrFile, List<String> wrapper, String classpath, String umask, String... args) throws IOException {
        List<String> java = new ArrayList<>(wrapper);
        java.add(javaBinary());
        java.add("-Xmx256m");
        java.add("-XX:TieredStopAtLevel=1"); // faster start; the children do little work
        java.add("-cp");
        java.add(classpath);
        java.add(StoreChild.class.getName());
        java.addAll(List.of(args));
        List<String> command;
        if (umask == null) {
            command = java;
        } else {
            StringBuilder sb = new StringBuilder("umask " + umask + " && exec");
            for (String a : java) sb.append(' ').append(shellQuote(a));
            command = List.of("bash", "-c", sb.toString());
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectError(stderrFile.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.PIPE); // closing it (or dying) ends a "hold" child
        return new ChildJvm(pb.start(), stderrFile);
    }

    static String javaBinary() {
        return io.mcpoauth.ServeProcess.javaBinary();
    }

    static String classpath() {
        return io.mcpoauth.ServeProcess.classpath();
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    long pid() {
        return process.pid();
    }

    /** The next stdout line, or null at end of output; fails after {@code timeout}. */
    String nextLine(Duration timeout) throws InterruptedException {
        String l = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (l == null) {
            throw new AssertionError("no output from the child within " + timeout + "; its last lines:\n" + lastLines(20)
                    + "\nstderr:\n" + stderrText() + "\nits threads:\n" + threadDump());
        }
        if (l == EOF) {
            lines.add(EOF);
            if (readFailure != null) throw new AssertionError("reading the child's output failed; lines may be lost", readFailure);
            return null;
        }
        seen.add(l);
        return l;
    }

    /** Reads lines until one matches; fails on end of output or after {@code timeout}. */
    String awaitLine(Predicate<String> which, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("the child did not print the expected line within " + timeout + "; stderr:\n" + stderrText());
            String l = nextLine(Duration.ofNanos(left));
            if (l == null) throw new AssertionError("the child ended (exit " + exitCodeOrRunning() + ") without the expected line; stderr:\n" + stderrText());
            if (which.test(l)) return l;
        }
    }

    /** Every line up to end of output (after the process died), bounded. */
    List<String> drain(Duration timeout) throws InterruptedException {
        List<String> rest = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("the child's output did not end within " + timeout);
            String l = nextLine(Duration.ofNanos(left));
            if (l == null) return rest;
            rest.add(l);
        }
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the child did not exit within " + timeout + "; stderr:\n" + stderrText());
        }
        return process.exitValue();
    }

    /**
     * SIGKILL, and wait until the process is gone. Through {@link ProcessHandle#destroyForcibly()}: it sends the same
     * SIGKILL as {@link Process#destroyForcibly()}, but the latter also closes our end of the child's stdout, so lines
     * the child had written before it died but we had not read yet would be lost (the SIGKILL test once saw a durable
     * rotation whose BEGIN line had been dropped that way).
     */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the child survived SIGKILL for 30 s");
    }

    /** The last {@code n} lines read (for a failure message). */
    String lastLines(int n) {
        return String.join("\n", seen.subList(Math.max(0, seen.size() - n), seen.size()));
    }

    /**
     * The child's threads ({@code jcmd <pid> Thread.print}), for a failure message when the child stalls: where its
     * threads wait is what tells a hang from a slow machine. Bounded; never throws.
     */
    String threadDump() {
        if (!process.isAlive()) return "(the child has exited)";
        Path jcmd = Path.of(javaBinary()).resolveSibling("jcmd");
        if (!Files.isExecutable(jcmd)) return "(no " + jcmd + ")";
        try {
            Path out = Files.createTempFile("child-threads-", ".txt");
            try {
                Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), "Thread.print", "-l")
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return "(jcmd did not answer within 30 s)\n" + Files.readString(out);
                }
                return Files.readString(out);
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return "(jcmd failed: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    private String exitCodeOrRunning() {
        return process.isAlive() ? "still running" : String.valueOf(process.exitValue());
    }

    String stderrText() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(cannot read " + stderr + ": " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }
}
