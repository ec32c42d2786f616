package io.mcpoauth.oauth;

import io.mcpoauth.http.Params;
import java.time.Instant;

/**
 * A token request as a grant handler sees it: the form (already parsed strictly, no repeated parameter) and the
 * instant the endpoint took it at.
 */
public record TokenRequest(Params form, Instant now) {
    /** The value of a form parameter, or null when absent or empty. */
    public String param(String name) {
        return form.first(name);
    }
}
