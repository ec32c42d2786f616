package io.mcpoauth.http;

/**
 * An OAuth error response: a registered {@code error} code, a sentence a person understands, and the HTTP status to
 * answer with. Thrown by validation code and turned into JSON, a redirect or an HTML page by the handlers. No stack
 * trace is captured: it is an expected outcome, not a bug.
 *
 * <p>The description is sanitised to the characters RFC 6749 §5.2 allows in {@code error_description} (printable
 * ASCII without {@code "} and {@code \}; anything else becomes {@code ?}) and cut to 400 characters, so input echoed
 * into it can never break a header, a JSON string or a redirect.
 */
public final class OAuthError extends RuntimeException {
    public static final String INVALID_REQUEST = "invalid_request";
    public static final String INVALID_CLIENT = "invalid_client";
    public static final String INVALID_GRANT = "invalid_grant";
    public static final String UNAUTHORIZED_CLIENT = "unauthorized_client";
    public static final String UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type";
    public static final String INVALID_SCOPE = "invalid_scope";
    public static final String INVALID_TARGET = "invalid_target";
    public static final String INVALID_REDIRECT_URI = "invalid_redirect_uri";
    public static final String INVALID_CLIENT_METADATA = "invalid_client_metadata";
    public static final String ACCESS_DENIED = "access_denied";
    public static final String UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type";
    public static final String SERVER_ERROR = "server_error";
    public static final String TEMPORARILY_UNAVAILABLE = "temporarily_unavailable";
    public static final String INVALID_TOKEN = "invalid_token";
    public static final String INSUFFICIENT_SCOPE = "insufficient_scope";

    static final int MAX_DESCRIPTION = 400;

    private final String code;
    private final String description;
    private final int httpStatus;

    /** An error with an explicit HTTP status. */
    public OAuthError(String code, String description, int httpStatus) {
        super(code + ": " + sanitize(description), null, false, false);
        if (code == null || code.isEmpty()) throw new IllegalArgumentException("code is required");
        this.code = code;
        this.description = sanitize(description);
        this.httpStatus = httpStatus;
    }

    /** An error with the usual status for its code (see {@link #defaultStatus}). */
    public OAuthError(String code, String description) {
        this(code, description, defaultStatus(code));
    }

    /**
     * 401 for invalid_client and invalid_token, 403 for insufficient_scope, 500 for server_error, 503 for
     * temporarily_unavailable, 400 for everything else.
     */
    public static int defaultStatus(String code) {
        if (code == null) return 400;
        switch (code) {
            case INVALID_CLIENT:
            case INVALID_TOKEN:
                return 401;
            case INSUFFICIENT_SCOPE:
                return 403;
            case SERVER_ERROR:
                return 500;
            case TEMPORARILY_UNAVAILABLE:
                return 503;
            default:
                return 400;
        }
    }

    public String code() {
        return code;
    }

    public String description() {
        return description;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** Keeps only RFC 6749 §5.2 characters (%x20-21 / %x23-5B / %x5D-7E) and at most 400 of them. */
    static String sanitize(String s) {
        if (s == null || s.isEmpty()) return "The request was refused.";
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_DESCRIPTION));
        for (int i = 0; i < s.length() && b.length() < MAX_DESCRIPTION; i++) {
            char c = s.charAt(i);
            boolean ok = c >= 0x20 && c <= 0x7E && c != '"' && c != '\\';
            b.append(ok ? c : '?');
        }
        if (s.length() > MAX_DESCRIPTION) {
            b.setLength(MAX_DESCRIPTION - 3);
            b.append("...");
        }
        return b.toString();
    }

    public static OAuthError invalidRequest(String description) {
        return new OAuthError(INVALID_REQUEST, description);
    }

    public static OAuthError invalidClient(String description) {
        return new OAuthError(INVALID_CLIENT, description);
    }

    public static OAuthError invalidGrant(String description) {
        return new OAuthError(INVALID_GRANT, description);
    }

    public static OAuthError unauthorizedClient(String description) {
        return new OAuthError(UNAUTHORIZED_CLIENT, description);
    }

    public static OAuthError unsupportedGrantType(String description) {
        return new OAuthError(UNSUPPORTED_GRANT_TYPE, description);
    }

    public static OAuthError invalidScope(String description) {
        return new OAuthError(INVALID_SCOPE, description);
    }

    public static OAuthError invalidTarget(String description) {
        return new OAuthError(INVALID_TARGET, description);
    }

    public static OAuthError invalidRedirectUri(String description) {
        return new OAuthError(INVALID_REDIRECT_URI, description);
    }

    public static OAuthError invalidClientMetadata(String description) {
        return new OAuthError(INVALID_CLIENT_METADATA, description);
    }

    public static OAuthError accessDenied(String description) {
        return new OAuthError(ACCESS_DENIED, description);
    }

    public static OAuthError unsupportedResponseType(String description) {
        return new OAuthError(UNSUPPORTED_RESPONSE_TYPE, description);
    }

    public static OAuthError serverError(String description) {
        return new OAuthError(SERVER_ERROR, description);
    }

    public static OAuthError temporarilyUnavailable(String description) {
        return new OAuthError(TEMPORARILY_UNAVAILABLE, description);
    }

    public static OAuthError invalidToken(String description) {
        return new OAuthError(INVALID_TOKEN, description);
    }

    public static OAuthError insufficientScope(String description) {
        return new OAuthError(INSUFFICIENT_SCOPE, description);
    }
}
