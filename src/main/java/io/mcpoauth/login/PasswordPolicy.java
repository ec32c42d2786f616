package io.mcpoauth.login;

/** The rule for new passwords: 12 to 1024 characters (counted as Unicode code points). */
public final class PasswordPolicy {
    private PasswordPolicy() {}

    public static final int MIN_LENGTH = 12;
    public static final int MAX_LENGTH = 1024;

    /** An error sentence for a person, or null when the password is acceptable. */
    public static String check(String password) {
        if (password == null || password.isEmpty()) return "Choose a password of at least " + MIN_LENGTH + " characters.";
        int n = password.codePointCount(0, password.length());
        if (n < MIN_LENGTH) return "The password must be at least " + MIN_LENGTH + " characters long.";
        if (n > MAX_LENGTH) return "The password must be at most " + MAX_LENGTH + " characters long.";
        return null;
    }
}
