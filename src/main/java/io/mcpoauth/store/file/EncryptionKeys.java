package io.mcpoauth.store.file;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.TokenCipher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the key for stored upstream tokens comes from: {@code ENCRYPTION_KEY} (32 bytes, base64), else
 * {@code <data dir>/encryption.key}, else a key generated once into that file (0600) with a warning. The start is
 * refused when ciphertexts exist but the key is missing (never silently a new key) or is not the one that made them.
 */
public final class EncryptionKeys {
    private static final Logger LOG = LoggerFactory.getLogger(EncryptionKeys.class);
    public static final String KEY_FILE = "encryption.key";
    static final String DISCARD_HINT = "To give the stored upstream tokens up instead, stop the server and delete "
            + FileStores.IDP_TOKENS + " and " + FileStores.IDP_TOKENS + ".prev from the data directory: every user then signs in again.";

    private EncryptionKeys() {}

    /**
     * The cipher for {@code tokens}, checked against every stored ciphertext's key id.
     *
     * @param configured the value of {@code ENCRYPTION_KEY}; empty when unset
     * @throws ConfigException with one clear paragraph when the key is malformed, missing or wrong
     */
    public static TokenCipher open(String configured, Path dataDir, IdpTokenStore tokens) {
        Path file = dataDir.resolve(KEY_FILE);
        byte[] key;
        String source;
        if (configured != null && !configured.isBlank()) {
            key = parse(configured.strip());
            if (key == null) {
                throw new ConfigException("ENCRYPTION_KEY=<hidden>: expected 32 random bytes in base64, e.g. from `openssl rand -base64 32`");
            }
            source = "ENCRYPTION_KEY";
        } else if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            key = read(file);
            source = file.toString();
        } else {
            int stored = tokens.count();
            if (stored > 0) {
                throw new ConfigException("ENCRYPTION_KEY is not set and " + file + " does not exist, but " + FileStores.IDP_TOKENS
                        + " holds " + stored + " encrypted upstream token" + (stored == 1 ? "" : "s")
                        + ". Refusing to start: a new key could never decrypt them. Set ENCRYPTION_KEY to the key that encrypted them, or restore "
                        + KEY_FILE + " from a backup. " + DISCARD_HINT);
            }
            key = generate(file);
            source = file.toString();
            LOG.warn("ENCRYPTION_KEY is not set: generated a new key for stored upstream tokens in {} (mode 0600). Back it up with the data "
                    + "directory, or move it into ENCRYPTION_KEY; without it the stored upstream tokens cannot be read.", file);
        }
        TokenCipher cipher = new TokenCipher(key);
        java.util.Arrays.fill(key, (byte) 0);
        Map<String, Integer> foreign = new TreeMap<>();
        for (IdpTokenRecord r : tokens.list()) {
            if (!cipher.keyId().equals(r.keyId())) foreign.merge(String.valueOf(r.keyId()), 1, Integer::sum);
        }
        if (!foreign.isEmpty()) {
            int n = foreign.values().stream().mapToInt(Integer::intValue).sum();
            throw new ConfigException("The encryption key from " + source + " (key id " + cipher.keyId() + ") is not the key that encrypted "
                    + n + " stored upstream token" + (n == 1 ? "" : "s") + " in " + FileStores.IDP_TOKENS + " (key id"
                    + (foreign.size() == 1 ? " " : "s ") + String.join(", ", foreign.keySet()) + "). Refusing to start. "
                    + "Set ENCRYPTION_KEY to the original key, or restore " + KEY_FILE + ". " + DISCARD_HINT);
        }
        return cipher;
    }

    /** 32 bytes from standard or URL-safe base64, or null. */
    static byte[] parse(String text) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            try {
                b = Base64.getUrlDecoder().decode(text);
            } catch (IllegalArgumentException e2) {
                return null;
            }
        }
        return b.length == TokenCipher.KEY_BYTES ? b : null;
    }

    private static byte[] read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new ConfigException(file + " cannot be read (" + DataDirectory.describe(e) + "); set ENCRYPTION_KEY or fix the file.");
        }
        byte[] key = parse(text);
        if (key == null) {
            throw new ConfigException(file + " does not hold a 32-byte base64 key. Restore it from a backup or set ENCRYPTION_KEY. " + DISCARD_HINT);
        }
        return key;
    }

    /** Writes a new random key: temp file created 0600, fsync, atomic rename, fsync of the directory. */
    private static byte[] generate(Path file) {
        byte[] key = Secrets.randomBytes(TokenCipher.KEY_BYTES);
        Path tmp = file.resolveSibling(SnapshotWriter.TMP_PREFIX + KEY_FILE + "-" + Long.toHexString(System.nanoTime()));
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
            throw new ConfigException("Cannot write a new encryption key to " + file + " (" + DataDirectory.describe(e) + "); set ENCRYPTION_KEY instead.");
        }
        return key;
    }
}
