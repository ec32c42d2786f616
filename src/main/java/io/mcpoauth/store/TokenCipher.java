package io.mcpoauth.store;

import io.mcpoauth.core.Secrets;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for secrets kept at rest (upstream tokens). Every encryption takes a fresh random 96-bit nonce; the
 * caller's associated data (the user id) is authenticated with the ciphertext, so a ciphertext moved to another user
 * does not decrypt. The output reads {@code v1.<base64url(nonce || ciphertext || tag)>}.
 *
 * <p>{@link #keyId()} names the key without revealing it (an HMAC of a fixed label), so a wrong key can be told
 * apart from a damaged ciphertext.
 */
public final class TokenCipher {
    public static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    static final String VERSION = "v1.";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final SecretKeySpec key;
    private final String keyId;

    public TokenCipher(byte[] key) {
        if (key == null || key.length != KEY_BYTES) throw new IllegalArgumentException("AES-256 needs a 32-byte key");
        this.key = new SecretKeySpec(key.clone(), "AES");
        this.keyId = keyIdOf(key);
    }

    /** A short public name of the key: the first 12 bytes of HMAC-SHA256(key, label), base64url. */
    public static String keyIdOf(byte[] key) {
        byte[] h = io.mcpoauth.core.Hmac.derive(key, "mcp-oauth-server upstream token key id");
        return B64.encodeToString(Arrays.copyOf(h, 12));
    }

    public String keyId() {
        return keyId;
    }

    /** Encrypts {@code plaintext} bound to {@code associatedData}. */
    public String encrypt(byte[] plaintext, String associatedData) {
        byte[] nonce = Secrets.randomBytes(NONCE_BYTES);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(plaintext);
            return VERSION + B64.encodeToString(ByteBuffer.allocate(nonce.length + ct.length).put(nonce).put(ct).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /**
     * Decrypts what {@link #encrypt} produced with the same associated data.
     *
     * @throws Unreadable when the text is malformed, was changed, was made with another key or for other data
     */
    public byte[] decrypt(String ciphertext, String associatedData) {
        if (ciphertext == null || !ciphertext.startsWith(VERSION)) throw new Unreadable("not a v1 ciphertext");
        byte[] all;
        try {
            all = B64D.decode(ciphertext.substring(VERSION.length()));
        } catch (IllegalArgumentException e) {
            throw new Unreadable("not base64url");
        }
        if (all.length < NONCE_BYTES + TAG_BITS / 8) throw new Unreadable("too short");
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new Unreadable("authentication failed");
        } catch (GeneralSecurityException e) {
            throw new Unreadable(e.getClass().getSimpleName());
        }
    }

    /** A ciphertext that cannot be decrypted: changed, another key, or bound to another user. */
    public static final class Unreadable extends RuntimeException {
        public Unreadable(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public String toString() {
        return "TokenCipher[" + keyId + "]";
    }
}
