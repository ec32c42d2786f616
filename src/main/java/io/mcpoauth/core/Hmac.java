package io.mcpoauth.core;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256, the one MAC of the server: what seals requestStates, session ids, CSRF tokens and key ids, and how a
 * key of its own is derived from a shared secret ({@link #derive}). Comparisons of MACs go through {@link #verify}
 * (constant time).
 */
public final class Hmac {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private Hmac() {}

    /** HMAC-SHA256 of {@code data} under {@code key}. */
    public static byte[] sha256(byte[] key, byte[] data) {
        try {
            Mac mac = MACS.get();
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** One Mac per thread (looking one up costs more than the MAC of a session id or a state); re-keyed on each use. */
    private static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    });

    /** HMAC-SHA256 of the UTF-8 {@code data}. */
    public static byte[] sha256(byte[] key, String data) {
        return sha256(key, data.getBytes(StandardCharsets.UTF_8));
    }

    /** HMAC-SHA256 of the UTF-8 {@code data}, base64url without padding. */
    public static String base64(byte[] key, String data) {
        return B64.encodeToString(sha256(key, data));
    }

    /** A key of its own for one purpose, derived from a shared secret: HMAC-SHA256(secret, ASCII label). */
    public static byte[] derive(byte[] secret, String label) {
        return sha256(secret, label.getBytes(StandardCharsets.US_ASCII));
    }

    /** Constant-time equality of two MACs (null is never equal). */
    public static boolean verify(byte[] expected, byte[] presented) {
        return expected != null && presented != null && MessageDigest.isEqual(expected, presented);
    }
}
