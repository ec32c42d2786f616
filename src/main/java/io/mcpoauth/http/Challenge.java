package io.mcpoauth.http;

import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A {@code WWW-Authenticate} challenge (RFC 9110 §11.6.1, RFC 6750 §3): a scheme and its parameters, in the order
 * given, each value quoted. Built the same way for the {@code /mcp} filter and the Javalin routes, e.g.
 * {@code Challenge.bearer().error("invalid_token").param("resource_metadata", url).to(res)}.
 */
public final class Challenge {
    public static final String HEADER = "WWW-Authenticate";
    /** The realm of the authorization server's own challenges. */
    public static final String REALM = "mcp-oauth-server";

    private final StringBuilder value;
    private boolean hasParams;

    private Challenge(String scheme) {
        this.value = new StringBuilder(scheme);
    }

    public static Challenge bearer() {
        return new Challenge("Bearer");
    }

    public static Challenge basic() {
        return new Challenge("Basic");
    }

    /** Adds {@code name="value"}; a null value adds nothing. */
    public Challenge param(String name, String value) {
        if (value == null) return this;
        this.value.append(hasParams ? ", " : " ").append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') this.value.append('\\');
            this.value.append(c);
        }
        this.value.append('"');
        hasParams = true;
        return this;
    }

    public Challenge realm(String realm) {
        return param("realm", realm);
    }

    /** The RFC 6750 §3.1 error code; null adds nothing. */
    public Challenge error(String code) {
        return param("error", code);
    }

    public void to(Context ctx) {
        ctx.header(HEADER, toString());
    }

    public void to(HttpServletResponse res) {
        res.setHeader(HEADER, toString());
    }

    @Override
    public String toString() {
        return value.toString();
    }
}
