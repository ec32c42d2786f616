package io.mcpoauth.admin;

import io.mcpoauth.store.file.FileOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * The credential a running server leaves for the commands, like a Docker socket: {@code <data dir>/.admin-api.json},
 * mode 0600 in the 0700 data directory, so only the server's user (and root) can read it. It holds the server's pid,
 * the URL of its loopback-only admin port and a random token made at each start. Written once the server listens
 * (the data directory lock is held by then), deleted when it stops; a file left by a killed server is replaced at the
 * next start and ignored meanwhile (its pid no longer holds the lock).
 */
public final class AdminSocket {
    public static final String FILE = ".admin-api.json";

    /** What the file holds. */
    public record Credential(long pid, String url, String token, Instant startedAt) {}

    private AdminSocket() {}

    static void write(Path dataDir, Credential c) throws IOException {
        Path target = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(".tmp-" + FILE + "-" + Long.toHexString(System.nanoTime()));
        try {
            FileOps.POSIX.writeNewAndSync(tmp, AdminJson.MAPPER.writeValueAsBytes(c));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The credential, or null when there is none. Throws {@link IOException} when it exists but cannot be read. */
    public static Credential read(Path dataDir) throws IOException {
        Path f = dataDir.resolve(FILE);
        if (Files.isSymbolicLink(f)) throw new IOException(f + " is a symbolic link");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return null;
        }
        return AdminJson.MAPPER.readValue(bytes, Credential.class);
    }

    /** Deletes the file if it still holds {@code token} (a newer server may have replaced it). */
    static void delete(Path dataDir, String token) {
        try {
            Credential c = read(dataDir);
            if (c != null && token.equals(c.token())) Files.deleteIfExists(dataDir.resolve(FILE));
        } catch (IOException | RuntimeException ignored) {
            // left behind: ignored because its pid does not hold the lock, replaced at the next start
        }
    }

    /** Removes a file left by an earlier run (called with the lock held, before this server writes its own). */
    static void deleteStale(Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(FILE));
        } catch (IOException ignored) {
            // replaced when this server writes its own
        }
    }

    static boolean exists(Path dataDir) {
        return Files.exists(dataDir.resolve(FILE), LinkOption.NOFOLLOW_LINKS);
    }
}
