package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.http.Html;
import java.net.http.HttpResponse;
import java.util.Map;

/** Assertions shared by the browser-flow tests: security headers, "no redirect" error pages, redirects to the client. */
public final class PageAsserts {
    private PageAsserts() {}

    /** The security headers of every login, consent and error page. */
    public static void securityHeaders(HttpResponse<String> r) {
        String where = r.request().method() + " " + r.uri().getPath() + " -> " + r.statusCode();
        assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElse(null), where);
        String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp.contains("frame-ancestors 'none'"), where + ": CSP " + csp);
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null), where);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), where);
    }

    /**
     * "No redirect": a 400 HTML page with the security headers, no {@code Location}, no link at all, and the bad URI
     * (raw or HTML-escaped) nowhere in the page.
     */
    public static void noRedirect(HttpResponse<String> r, String badUri) {
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Location").isEmpty(), "Location: " + r.headers().firstValue("Location"));
        securityHeaders(r);
        String body = r.body();
        assertFalse(body.contains("href"), "the error page has a link: " + body);
        assertFalse(body.toLowerCase().contains("http-equiv"), "the error page has a meta refresh: " + body);
        if (badUri != null && !badUri.isEmpty()) {
            assertFalse(body.contains(badUri), "the page shows the bad URI: " + body);
            assertFalse(body.contains(Html.escape(badUri)), "the page shows the bad URI: " + body);
        }
    }

    /** A redirect to {@code redirectUri} (exactly that prefix, then '?'); returns its query parameters. */
    public static Map<String, String> redirectTo(HttpResponse<String> r, int status, String redirectUri) {
        assertEquals(status, r.statusCode(), r.body());
        String loc = r.headers().firstValue("Location").orElseThrow(() -> new AssertionError("no Location"));
        assertTrue(loc.startsWith(redirectUri + "?") || loc.startsWith(redirectUri + "&"), loc);
        return OAuthClientSim.query(loc);
    }

    /** An error redirect to the client: {@code error}, the given state (null: none) and {@code iss}. */
    public static Map<String, String> errorRedirect(HttpResponse<String> r, String redirectUri, String error, String state, String issuer) {
        Map<String, String> q = redirectTo(r, 302, redirectUri);
        assertEquals(error, q.get("error"), q.toString());
        assertEquals(state, q.get("state"), q.toString());
        assertEquals(issuer, q.get("iss"), q.toString());
        assertTrue(q.containsKey("error_description"), q.toString());
        assertFalse(q.containsKey("code"), q.toString());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        return q;
    }
}
