package io.mcpoauth.login;

/** More of the account page, from a module above this one (e.g. the user's connections): complete, escaped HTML. */
@FunctionalInterface
public interface AccountSection {
    /** @param csrf the CSRF token every form of the section must carry (field {@code csrf}) */
    String html(String userId, String csrf);
}
