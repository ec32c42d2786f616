package io.mcpoauth.idp;

import io.mcpoauth.http.Params;
import io.mcpoauth.store.UserRecord;
import java.time.Instant;

/**
 * Sign-in through an upstream identity provider (Google, Microsoft Entra, GitHub, OpenID Connect). Our own consent
 * is asked before the browser is sent upstream (the confused-deputy rule); the provider's {@code state} is random,
 * single-use, short-lived and bound to the browser session.
 */
public interface IdpSignIn {
    /** The provider's name as users know it, e.g. "Google". */
    String displayName();

    /**
     * The URL that starts the upstream sign-in for pending authorization {@code pendingId} in browser session
     * {@code sessionId}; {@code pendingId} null means a sign-in from the account page (no client involved).
     */
    String begin(String pendingId, String sessionId, Instant now);

    /**
     * Completes the upstream sign-in from the callback's query. Creates or updates the user and stores their upstream
     * tokens. Throws {@link Failure} when the sign-in cannot complete.
     */
    Completed finish(Params callbackQuery, String sessionId, Instant now);

    /** The pending authorization the callback belongs to, and who signed in. */
    record Completed(String pendingId, UserRecord user) {}

    /**
     * A sign-in that did not complete. With {@code pendingId} and {@code oauthError} set, the client gets the error on
     * its redirect URI (e.g. access_denied, temporarily_unavailable); otherwise the browser sees an error page.
     */
    final class Failure extends RuntimeException {
        public final String pendingId;
        public final String oauthError;
        public final int status;

        public Failure(String pendingId, String oauthError, int status, String message) {
            super(message, null, false, false);
            this.pendingId = pendingId;
            this.oauthError = oauthError;
            this.status = status;
        }
    }
}
