package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;

/** Checks for the HTML error pages of the upstream flow. */
public final class HttpResponseCheck {
    private HttpResponseCheck() {}

    /** An HTML page with {@code status}, the page security headers, no Location, and {@code text} in it. */
    public static String page(HttpResponse<String> r, int status, String text) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), r.headers().map().toString());
        assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElse(""));
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("frame-ancestors 'none'"));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        assertFalse(r.headers().firstValue("Location").isPresent(), "no redirect");
        assertTrue(r.body().contains(text), "expected '" + text + "' in: " + r.body());
        return r.body();
    }
}
