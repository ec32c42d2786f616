package io.mcpoauth.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Opaque tokens: 256 random bits, base64url, with a readable prefix. Only {@link #hash} of a token is ever stored,
 * and comparisons go through {@link #matches} (constant time).
 */
public final class Secrets {
    private Secrets() {}

    public static final String ACCESS_TOKEN = "mcpat_";
    public static final String REFRESH_TOKEN = "mcprt_";
    public static final String AUTH_CODE = "mcpac_";
    public static final String CLIENT_SECRET = "mcpcs_";
    public static final String REGISTRATION_TOKEN = "mcpreg_";
    public static final String API_KEY = "mcpk_";
    public static final String CLIENT_ID = "mcpc_";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    /** {@code prefix} followed by 32 random bytes in base64url (43 characters). */
    public static String mint(String prefix) {
        return prefix + randomString(32);
    }

    /** {@code bytes} random bytes in base64url without padding. */
    public static String randomString(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return B64.encodeToString(b);
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** SHA-256 of the UTF-8 token, base64url without padding: the only form a token is stored or indexed in. */
    public static String hash(String token) {
        return B64.encodeToString(sha256(token.getBytes(StandardCharsets.UTF_8)));
    }

    public static byte[] sha256(byte[] data) {
        return SHA256.get().digest(data); // digest() resets the instance for its next use
    }

    /** One digest per thread: every request hashes the token it presents, and looking an instance up costs more than that. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /** Constant-time check of a presented secret against a stored hash. */
    public static boolean matches(String presented, String storedHash) {
        if (presented == null || storedHash == null) return false;
        byte[] a = hash(presented).getBytes(StandardCharsets.US_ASCII);
        byte[] b = storedHash.getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(a, b);
    }

    /** Constant-time equality of two strings (e.g. an admin token). */
    public static boolean constantTimeEquals(String a, String b) {
        if (a == null || b == null) return false;
        return MessageDigest.isEqual(sha256(a.getBytes(StandardCharsets.UTF_8)), sha256(b.getBytes(StandardCharsets.UTF_8)));
    }
}
