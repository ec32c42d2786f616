package io.mcpoauth.store;

/** A store failure. {@link #unavailable} means a write could not be made durable: the request must fail with a 5xx. */
public class StoreException extends RuntimeException {
    private final boolean unavailable;

    public StoreException(String message, Throwable cause, boolean unavailable) {
        super(message, cause);
        this.unavailable = unavailable;
    }

    public static StoreException unavailable(String message, Throwable cause) {
        return new StoreException(message, cause, true);
    }

    public static StoreException refused(String message) {
        return new StoreException(message, null, false);
    }

    public boolean unavailable() {
        return unavailable;
    }
}
