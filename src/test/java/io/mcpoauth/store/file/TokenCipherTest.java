package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.TokenCipher;
import io.mcpoauth.store.file.EncryptionKeys;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** AES-256-GCM for stored upstream tokens: fresh nonces, tamper detection, the user id bound as associated data. */
class TokenCipherTest {
    private final byte[] key = Secrets.randomBytes(32);
    private final TokenCipher cipher = new TokenCipher(key);
    private final byte[] secret = "{\"access_token\":\"at\",\"refresh_token\":\"rt\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void roundTripWithAFreshNonceEachTime() {
        String a = cipher.encrypt(secret, "oidc:alice");
        String b = cipher.encrypt(secret, "oidc:alice");
        assertTrue(a.startsWith("v1."));
        assertNotEquals(a, b, "a fresh random nonce per encryption");
        byte[] na = Base64.getUrlDecoder().decode(a.substring(3));
        byte[] nb = Base64.getUrlDecoder().decode(b.substring(3));
        assertNotEquals(Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(na, 12)),
                Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(nb, 12)));
        assertEquals(12 + secret.length + 16, na.length, "nonce, ciphertext, 128-bit tag");
        assertArrayEquals(secret, cipher.decrypt(a, "oidc:alice"));
        assertArrayEquals(secret, cipher.decrypt(b, "oidc:alice"));
        assertTrue(!new String(na, StandardCharsets.ISO_8859_1).contains("access_token"), "not plaintext");
    }

    @Test
    void everyFlippedByteIsDetected() {
        String ct = cipher.encrypt(secret, "oidc:alice");
        byte[] raw = Base64.getUrlDecoder().decode(ct.substring(3));
        for (int i = 0; i < raw.length; i++) {
            byte[] bad = raw.clone();
            bad[i] ^= 0x01;
            String tampered = "v1." + Base64.getUrlEncoder().withoutPadding().encodeToString(bad);
            assertThrows(TokenCipher.Unreadable.class, () -> cipher.decrypt(tampered, "oidc:alice"), "byte " + i);
        }
    }

    @Test
    void theUserIdIsBoundAsAssociatedData() {
        String alices = cipher.encrypt(secret, IdpTokenRecord.associatedData("oidc:alice"));
        assertThrows(TokenCipher.Unreadable.class, () -> cipher.decrypt(alices, IdpTokenRecord.associatedData("oidc:bob")));
        assertArrayEquals(secret, cipher.decrypt(alices, IdpTokenRecord.associatedData("oidc:alice")));
    }

    @Test
    void anotherKeyCannotDecryptAndHasAnotherId() {
        TokenCipher other = new TokenCipher(Secrets.randomBytes(32));
        String ct = cipher.encrypt(secret, "u");
        assertThrows(TokenCipher.Unreadable.class, () -> other.decrypt(ct, "u"));
        assertNotEquals(cipher.keyId(), other.keyId());
        assertEquals(cipher.keyId(), new TokenCipher(key.clone()).keyId(), "the key id is stable");
        assertTrue(!cipher.toString().contains(Base64.getEncoder().encodeToString(key)));
    }

    @Test
    void garbageIsUnreadableNeverAnotherException() {
        for (String g : new String[] {null, "", "v1.", "v1.!!!", "v2.AAAA", "v1.AAAA", "plain text"}) {
            assertThrows(TokenCipher.Unreadable.class, () -> cipher.decrypt(g, "u"), String.valueOf(g));
        }
        assertThrows(IllegalArgumentException.class, () -> new TokenCipher(new byte[16]));
    }

    @Test
    void keysAreParsedFromStandardOrUrlSafeBase64Of32Bytes() {
        byte[] k = Secrets.randomBytes(32);
        assertArrayEquals(k, EncryptionKeys.parse(Base64.getEncoder().encodeToString(k)));
        assertArrayEquals(k, EncryptionKeys.parse(Base64.getUrlEncoder().withoutPadding().encodeToString(k)));
        assertNull(EncryptionKeys.parse(Base64.getEncoder().encodeToString(new byte[31])));
        assertNull(EncryptionKeys.parse(Base64.getEncoder().encodeToString(new byte[33])));
        assertNull(EncryptionKeys.parse("not base64 at all!"));
        assertNotNull(EncryptionKeys.parse("  ".strip() + Base64.getEncoder().encodeToString(k)));
    }
}
