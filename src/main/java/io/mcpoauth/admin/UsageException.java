package io.mcpoauth.admin;

/** Wrong arguments to a command; the message says what was expected. Exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message, null, false, false);
    }
}
