package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;

/**
 * A refused authorization request. Without a {@link #redirectUri} (unknown client, bad redirect URI, repeated
 * parameters) it is shown as an error page and never redirected; with one, the client gets the error on its
 * validated redirect URI together with its state and our issuer.
 */
public final class AuthorizeRejection extends RuntimeException {
    private final OAuthError error;
    private final String redirectUri;
    private final String state;

    private AuthorizeRejection(OAuthError error, String redirectUri, String state) {
        super(error.getMessage(), null, false, false);
        this.error = error;
        this.redirectUri = redirectUri;
        this.state = state;
    }

    public static AuthorizeRejection page(OAuthError error) {
        return new AuthorizeRejection(error, null, null);
    }

    public static AuthorizeRejection redirect(OAuthError error, String redirectUri, String state) {
        return new AuthorizeRejection(error, redirectUri, state);
    }

    public OAuthError error() {
        return error;
    }

    /** Null when the error must be shown as a page. */
    public String redirectUri() {
        return redirectUri;
    }

    public String state() {
        return state;
    }
}
