package io.mcpoauth.store.file;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A small tmpfs mounted for a real disk-full test (needs root or CAP_SYS_ADMIN); {@link #why} says why not when it cannot. */
final class Tmpfs implements AutoCloseable {
    final Path dir;
    final String why;

    private Tmpfs(Path dir, String why) {
        this.dir = dir;
        this.why = why;
    }

    boolean mounted() {
        return why == null;
    }

    /** Not mounted, for {@code why}. */
    static Tmpfs none(Path dir, String why) {
        return new Tmpfs(dir, why);
    }

    static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Tmpfs(dir, "mount did not finish within 20 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) return new Tmpfs(dir, "mount -t tmpfs failed (exit " + p.exitValue() + "): " + out);
        return new Tmpfs(dir, null);
    }

    /** Writes a filler file until the file system is full; returns it. */
    Path fill() throws IOException {
        Path filler = dir.resolve("filler");
        byte[] chunk = new byte[64 * 1024];
        try (var out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 100_000; i++) {
                out.write(chunk);
                out.flush();
            }
        } catch (IOException full) {
            return filler; // No space left on device
        }
        throw new AssertionError("the tmpfs never filled up");
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (!mounted()) return;
        Process p = new ProcessBuilder("umount", "-l", dir.toString()).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
    }
}
