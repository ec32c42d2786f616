package io.mcpoauth.login;

/** What the browser gets next in the authorization flow; the HTTP edge turns it into a response. */
public sealed interface Step {
    /** An HTML page with a status. */
    record Page(int status, String html) implements Step {}

    /** A refusal page with a {@code Retry-After} (seconds): 429 or 503. */
    record Refused(int status, String html, long retryAfterSeconds) implements Step {}

    /** A redirect: 302 after a GET, 303 after a POST. */
    record Redirect(int status, String location) implements Step {}
}
