package io.mcpoauth.login;

import io.mcpoauth.core.Secrets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * PBKDF2-HMAC-SHA256 password hashing (OWASP 2023: 600,000 iterations), a 16-byte random salt per hash and a
 * 32-byte output. {@link #verify} never throws and compares in constant time.
 */
public final class PasswordHasher {
    public static final String ALGORITHM = "PBKDF2WithHmacSHA256";
    public static final int DEFAULT_ITERATIONS = 600_000;
    static final int SALT_BYTES = 16;
    static final int HASH_BYTES = 32;
    /** Stored iteration counts above this are refused by {@link #verify} (a corrupted record must not hang a login). */
    static final int MAX_ITERATIONS = 10_000_000;

    /** A stored password hash; salt and hash are standard base64. */
    public record PasswordHash(String algorithm, int iterations, String salt, String hash) {}

    private final int iterations;
    /**
     * What an unknown user's password is checked against: random bytes with this hasher's parameters, made at
     * construction without hashing anything. Checking against it costs exactly one real verify, from the first call on
     * (building it lazily made the first unknown-user sign-in take a hash longer: a user-enumeration signal).
     */
    private final PasswordHash dummy;

    /** A hasher with {@link #DEFAULT_ITERATIONS}. */
    public PasswordHasher() {
        this(DEFAULT_ITERATIONS);
    }

    /** A hasher with a given count; tests use a small one for speed. */
    public PasswordHasher(int iterations) {
        if (iterations < 1 || iterations > MAX_ITERATIONS) throw new IllegalArgumentException("iterations out of range");
        this.iterations = iterations;
        Base64.Encoder b64 = Base64.getEncoder();
        this.dummy = new PasswordHash(ALGORITHM, iterations, b64.encodeToString(Secrets.randomBytes(SALT_BYTES)),
                b64.encodeToString(Secrets.randomBytes(HASH_BYTES)));
    }

    public int iterations() {
        return iterations;
    }

    /** A new hash with a fresh salt. The password must not be empty. */
    public PasswordHash hash(char[] password) {
        if (password == null || password.length == 0) throw new IllegalArgumentException("password must not be empty");
        byte[] salt = Secrets.randomBytes(SALT_BYTES);
        byte[] out = derive(password, salt, iterations, HASH_BYTES);
        Base64.Encoder b64 = Base64.getEncoder();
        return new PasswordHash(ALGORITHM, iterations, b64.encodeToString(salt), b64.encodeToString(out));
    }

    /** True when {@code password} produces {@code stored}; false for anything malformed, never an exception. */
    public boolean verify(char[] password, PasswordHash stored) {
        if (password == null || password.length == 0 || stored == null || !ALGORITHM.equals(stored.algorithm())) return false;
        if (stored.iterations() < 1 || stored.iterations() > MAX_ITERATIONS || stored.salt() == null || stored.hash() == null) {
            return false;
        }
        byte[] salt;
        byte[] expected;
        try {
            salt = Base64.getDecoder().decode(stored.salt());
            expected = Base64.getDecoder().decode(stored.hash());
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (salt.length == 0 || expected.length < 16 || expected.length > 64) return false;
        byte[] actual = derive(password, salt, stored.iterations(), expected.length);
        return MessageDigest.isEqual(actual, expected);
    }

    /**
     * Spends the same time as a real {@link #verify} and returns false: call it when the user name is unknown so
     * that response time does not reveal which accounts exist.
     */
    public boolean verifyDummy(char[] password) {
        verify(password == null || password.length == 0 ? new char[] {'x'} : password, dummy);
        return false;
    }

    /** True when {@code stored} uses another algorithm or fewer iterations than this hasher. */
    public boolean needsRehash(PasswordHash stored) {
        return stored == null || !ALGORITHM.equals(stored.algorithm()) || stored.iterations() < iterations;
    }

    private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
        try {
            return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2 is unavailable", e);
        } finally {
            spec.clearPassword();
        }
    }
}
