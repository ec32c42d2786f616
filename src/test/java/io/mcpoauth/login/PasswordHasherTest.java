package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.*;

import io.mcpoauth.core.Json;
import io.mcpoauth.login.PasswordHasher.PasswordHash;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    final PasswordHasher fast = new PasswordHasher(1000);

    @Test
    void defaultIsAtLeast600000Iterations() {
        assertTrue(PasswordHasher.DEFAULT_ITERATIONS >= 600_000);
        assertEquals(PasswordHasher.DEFAULT_ITERATIONS, new PasswordHasher().iterations());
    }

    @Test
    void hashThenVerify() {
        PasswordHash h = fast.hash("correct horse battery staple".toCharArray());
        assertEquals("PBKDF2WithHmacSHA256", h.algorithm());
        assertEquals(1000, h.iterations());
        assertEquals(16, Base64.getDecoder().decode(h.salt()).length);
        assertEquals(32, Base64.getDecoder().decode(h.hash()).length);
        assertTrue(fast.verify("correct horse battery staple".toCharArray(), h));
        assertFalse(fast.verify("correct horse battery stapl".toCharArray(), h));
        assertFalse(fast.verify("Correct horse battery staple".toCharArray(), h));
    }

    @Test
    void eachHashHasItsOwnSalt() {
        PasswordHash a = fast.hash("same password!".toCharArray());
        PasswordHash b = fast.hash("same password!".toCharArray());
        assertNotEquals(a.salt(), b.salt());
        assertNotEquals(a.hash(), b.hash());
    }

    @Test
    void unicodePasswords() {
        char[] pw = "p\u00e4ssw\u00f6rd \uD83D\uDD11 \u4e2d\u6587".toCharArray();
        PasswordHash h = fast.hash(pw);
        assertTrue(fast.verify("p\u00e4ssw\u00f6rd \uD83D\uDD11 \u4e2d\u6587".toCharArray(), h));
        assertFalse(fast.verify("passwoord \uD83D\uDD11 \u4e2d\u6587".toCharArray(), h));
    }

    @Test
    void verifyUsesTheStoredIterationCount() {
        PasswordHash old = new PasswordHasher(500).hash("an older password".toCharArray());
        assertTrue(fast.verify("an older password".toCharArray(), old));
        assertTrue(fast.needsRehash(old));
        assertFalse(fast.needsRehash(fast.hash("a newer password".toCharArray())));
        assertFalse(new PasswordHasher(500).needsRehash(fast.hash("a newer password".toCharArray())));
    }

    @Test
    void needsRehashForOtherAlgorithms() {
        assertTrue(fast.needsRehash(new PasswordHash("bcrypt", 100_000, "c2FsdA==", "aGFzaA==")));
        assertTrue(fast.needsRehash(null));
    }

    @Test
    void verifyNeverThrowsOnBadInput() {
        PasswordHash good = fast.hash("a good password".toCharArray());
        char[] pw = "a good password".toCharArray();
        assertFalse(fast.verify(null, good));
        assertFalse(fast.verify(new char[0], good));
        assertFalse(fast.verify(pw, null));
        assertFalse(fast.verify(pw, new PasswordHash(null, 1000, good.salt(), good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash("MD5", 1000, good.salt(), good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 0, good.salt(), good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), -5, good.salt(), good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), Integer.MAX_VALUE, good.salt(), good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, null, good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, good.salt(), null)));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, "!!not base64!!", good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, good.salt(), "!!")));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, "", good.hash())));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1000, good.salt(), "")));
        assertFalse(fast.verify(pw, new PasswordHash(good.algorithm(), 1001, good.salt(), good.hash())));
        assertTrue(fast.verify(pw, good));
    }

    @Test
    void dummyVerifyAlwaysFails() {
        assertFalse(fast.verifyDummy("anything at all".toCharArray()));
        assertFalse(fast.verifyDummy(null));
        assertFalse(fast.verifyDummy(new char[0]));
    }

    @Test
    void emptyPasswordCannotBeHashed() {
        assertThrows(IllegalArgumentException.class, () -> fast.hash(new char[0]));
        assertThrows(IllegalArgumentException.class, () -> fast.hash(null));
    }

    @Test
    void iterationBounds() {
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(0));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(20_000_000));
    }

    @Test
    void jsonRoundTrip() throws Exception {
        PasswordHash h = fast.hash("round trip password".toCharArray());
        String json = Json.MAPPER.writeValueAsString(h);
        assertTrue(json.contains("\"algorithm\":\"PBKDF2WithHmacSHA256\""), json);
        assertTrue(json.contains("\"iterations\":1000"), json);
        PasswordHash back = Json.MAPPER.readValue(json, PasswordHash.class);
        assertEquals(h, back);
        assertTrue(fast.verify("round trip password".toCharArray(), back));
    }

    @Test
    void knownVector() throws Exception {
        // PBKDF2-HMAC-SHA256("password", "salt", 1 iteration, 32 bytes) from RFC 7914 section 11 style vectors
        PasswordHash v = new PasswordHash("PBKDF2WithHmacSHA256", 1,
                Base64.getEncoder().encodeToString("salt".getBytes()),
                Base64.getEncoder().encodeToString(hex("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")));
        assertTrue(new PasswordHasher(1).verify("password".toCharArray(), v));
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }
}
