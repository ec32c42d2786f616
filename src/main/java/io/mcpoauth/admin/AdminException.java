package io.mcpoauth.admin;

/** An administrative operation refused; {@code code} is the JSON error code, {@code status} its HTTP status. */
public final class AdminException extends RuntimeException {
    public static final String NOT_FOUND = "not_found";
    public static final String INVALID_REQUEST = "invalid_request";
    public static final String CONFLICT = "conflict";
    public static final String UNAUTHORIZED = "unauthorized";
    public static final String UNAVAILABLE = "unavailable";

    private final String code;
    private final int status;

    public AdminException(String code, int status, String message) {
        super(message, null, false, false);
        this.code = code;
        this.status = status;
    }

    public static AdminException notFound(String message) {
        return new AdminException(NOT_FOUND, 404, message);
    }

    public static AdminException invalid(String message) {
        return new AdminException(INVALID_REQUEST, 400, message);
    }

    public static AdminException conflict(String message) {
        return new AdminException(CONFLICT, 409, message);
    }

    public String code() {
        return code;
    }

    public int status() {
        return status;
    }
}
