package io.mcpoauth.idp;

/**
 * Who signed in upstream. {@code subject} is the provider's stable id for the user (never the e-mail address);
 * {@code emailVerified} is true only when the provider says so.
 */
public record Identity(String subject, String username, String email, boolean emailVerified, String name) {

    /** A sign-in that cannot be trusted or completed; the message is safe to show on the error page. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }
}
