package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** PKCE (RFC 7636) with S256 only: format checks and the verifier-challenge comparison. */
public final class Pkce {
    private Pkce() {}

    public static final String METHOD_S256 = "S256";

    /** 43 to 128 characters of {@code [A-Za-z0-9-._~]} (RFC 7636 §4.2 for a base64url S256 value, §4.1 bounds). */
    public static boolean isValidChallenge(String challenge) {
        return isUnreserved43to128(challenge);
    }

    /** 43 to 128 characters of {@code [A-Za-z0-9-._~]} (RFC 7636 §4.1). */
    public static boolean isValidVerifier(String verifier) {
        return isUnreserved43to128(verifier);
    }

    /**
     * True when BASE64URL-no-padding(SHA-256(ASCII verifier)) equals {@code challenge}, compared in constant time.
     * False (never an exception) for null or malformed values.
     */
    public static boolean verifyS256(String verifier, String challenge) {
        if (!isValidVerifier(verifier) || challenge == null) return false;
        byte[] digest = Secrets.sha256(verifier.getBytes(StandardCharsets.US_ASCII));
        byte[] computed = Base64.getUrlEncoder().withoutPadding().encode(digest);
        return MessageDigest.isEqual(computed, challenge.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean isUnreserved43to128(String s) {
        if (s == null || s.length() < 43 || s.length() > 128) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~';
            if (!ok) return false;
        }
        return true;
    }
}
