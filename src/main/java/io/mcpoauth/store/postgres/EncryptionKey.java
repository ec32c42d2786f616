package io.mcpoauth.store.postgres;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.TokenCipher;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The key for stored upstream tokens with {@code STORE=postgres}: {@code ENCRYPTION_KEY} only (there is no data
 * directory to keep a generated key in, and every instance needs the same key). The start is refused when it is
 * missing or malformed, or is not the key that encrypted the stored tokens.
 */
public final class EncryptionKey {
    private EncryptionKey() {}

    public static TokenCipher open(String configured, IdpTokenStore tokens) {
        if (configured == null || configured.isBlank()) {
            int stored = tokens.count();
            throw new ConfigException("ENCRYPTION_KEY is not set. With STORE=postgres every instance needs the same key for the stored upstream "
                    + "tokens (" + stored + " stored now): set ENCRYPTION_KEY to 32 random bytes in base64 (openssl rand -base64 32), or, after "
                    + "store migrate, to the content of the data directory's encryption.key.");
        }
        byte[] key = parse(configured.strip());
        if (key == null) throw new ConfigException("ENCRYPTION_KEY=<hidden>: expected 32 random bytes in base64, e.g. from `openssl rand -base64 32`");
        TokenCipher cipher = new TokenCipher(key);
        java.util.Arrays.fill(key, (byte) 0);
        Map<String, Integer> foreign = new TreeMap<>();
        for (IdpTokenRecord r : tokens.list()) {
            if (!cipher.keyId().equals(r.keyId())) foreign.merge(String.valueOf(r.keyId()), 1, Integer::sum);
        }
        if (!foreign.isEmpty()) {
            int n = foreign.values().stream().mapToInt(Integer::intValue).sum();
            throw new ConfigException("ENCRYPTION_KEY (key id " + cipher.keyId() + ") is not the key that encrypted " + n + " stored upstream token"
                    + (n == 1 ? "" : "s") + " (key id" + (foreign.size() == 1 ? " " : "s ") + String.join(", ", foreign.keySet())
                    + "). Refusing to start. Set ENCRYPTION_KEY to the original key (after store migrate: the data directory's encryption.key).");
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
}
