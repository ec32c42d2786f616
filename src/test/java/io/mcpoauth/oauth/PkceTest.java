package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PkceTest {
    // RFC 7636 Appendix B
    static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    @Test
    void rfc7636AppendixBExample() {
        assertTrue(Pkce.verifyS256(VERIFIER, CHALLENGE));
    }

    @Test
    void wrongVerifierOrChallengeFails() {
        assertFalse(Pkce.verifyS256(VERIFIER.replace('d', 'e'), CHALLENGE));
        assertFalse(Pkce.verifyS256(VERIFIER, CHALLENGE.substring(1)));
        assertFalse(Pkce.verifyS256(VERIFIER, CHALLENGE + "="));
        assertFalse(Pkce.verifyS256(VERIFIER, VERIFIER)); // "plain" is not accepted
        assertFalse(Pkce.verifyS256(null, CHALLENGE));
        assertFalse(Pkce.verifyS256(VERIFIER, null));
        assertFalse(Pkce.verifyS256("", ""));
    }

    @Test
    void malformedVerifierNeverVerifies() {
        assertFalse(Pkce.verifyS256("short", CHALLENGE));
        assertFalse(Pkce.verifyS256(VERIFIER + " ", CHALLENGE));
    }

    @Test
    void lengthBounds() {
        assertFalse(Pkce.isValidVerifier("a".repeat(42)));
        assertTrue(Pkce.isValidVerifier("a".repeat(43)));
        assertTrue(Pkce.isValidVerifier("a".repeat(128)));
        assertFalse(Pkce.isValidVerifier("a".repeat(129)));
        assertFalse(Pkce.isValidChallenge("a".repeat(42)));
        assertTrue(Pkce.isValidChallenge("a".repeat(43)));
        assertTrue(Pkce.isValidChallenge("a".repeat(128)));
        assertFalse(Pkce.isValidChallenge("a".repeat(129)));
        assertFalse(Pkce.isValidChallenge(null));
        assertFalse(Pkce.isValidVerifier(null));
        assertFalse(Pkce.isValidChallenge(""));
    }

    @Test
    void characterSet() {
        String ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        assertTrue(Pkce.isValidVerifier(ok));
        assertTrue(Pkce.isValidChallenge(ok));
        for (String bad : new String[] {"+", "/", "=", " ", "%", "\u00e9", "\n", "\"", "<"}) {
            String s = "a".repeat(50) + bad;
            assertFalse(Pkce.isValidVerifier(s), bad);
            assertFalse(Pkce.isValidChallenge(s), bad);
        }
    }

    @Test
    void generatedPairsVerify() {
        for (int i = 0; i < 20; i++) {
            String verifier = io.mcpoauth.core.Secrets.randomString(32 + i);
            String challenge = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    io.mcpoauth.core.Secrets.sha256(verifier.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            assertTrue(Pkce.isValidChallenge(challenge));
            assertTrue(Pkce.verifyS256(verifier, challenge));
        }
    }
}
