package io.mcpoauth.store;

import java.time.Instant;

/**
 * A user as kept in {@code users.json}. {@code userId} is {@code <provider>:<subject>} (e.g. {@code local:alice},
 * {@code google:1049...}); {@code email} is shown, never used as the key. Local users carry a password hash with its
 * parameters, so the iteration count can be raised later.
 */
public record UserRecord(
        String userId,
        String username,
        String provider,
        String subject,
        String email,
        Boolean emailVerified,
        String name,
        Password password,
        Instant createdAt,
        Instant lastLoginAt) {

    /** The id of the local user {@code username} (names are case-insensitive). */
    public static String localId(String username) {
        return "local:" + username.toLowerCase(java.util.Locale.ROOT);
    }

    /** PBKDF2 parameters and result, base64. */
    public record Password(String algorithm, int iterations, String salt, String hash) {}

    public UserRecord withPassword(Password p) {
        return new UserRecord(userId, username, provider, subject, email, emailVerified, name, p, createdAt, lastLoginAt);
    }

    public UserRecord withLastLoginAt(Instant t) {
        return new UserRecord(userId, username, provider, subject, email, emailVerified, name, password, createdAt, t);
    }
}
