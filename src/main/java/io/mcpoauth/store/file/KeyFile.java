package io.mcpoauth.store.file;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.core.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Base64;

/**
 * A secret of 32 random bytes kept in a file of the data directory (one base64 line, mode 0600), generated at the first
 * start and read at every later one, so that what it protects survives a restart. For secrets whose loss costs little
 * (e.g. the HMAC key of pending MCP requestStates: losing it only voids questions asked in the last minutes); the key
 * of the stored upstream tokens has its own, stricter rules ({@link EncryptionKeys}).
 */
public final class KeyFile {
    public static final int BYTES = 32;

    private KeyFile() {}

    /** The key in {@code <dataDir>/<name>}, created (write, fsync, atomic rename, fsync of the directory) when absent. */
    public static byte[] openOrCreate(Path dataDir, String name) {
        Path file = dataDir.resolve(name);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            try {
                byte[] key = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
                if (key.length == BYTES) return key;
            } catch (IOException | IllegalArgumentException e) {
                // reported below
            }
            throw new ConfigException(file + " does not hold a " + BYTES + "-byte base64 key. Delete it to have a new one made at the next start.");
        }
        byte[] key = Secrets.randomBytes(BYTES);
        Path tmp = file.resolveSibling(SnapshotWriter.TMP_PREFIX + name + "-" + Long.toHexString(System.nanoTime()));
        try {
            FileOps.POSIX.writeNewAndSync(tmp, (Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII));
            FileOps.POSIX.atomicMove(tmp, file);
            FileOps.POSIX.syncDirectory(file.getParent());
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // removed at the next start
            }
            throw new ConfigException("Cannot write a new key to " + file + " (" + DataDirectory.describe(e) + ").");
        }
        return key;
    }
}
