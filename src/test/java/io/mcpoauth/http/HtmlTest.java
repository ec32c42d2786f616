package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class HtmlTest {

    @Test
    void escapesEveryDangerousCharacter() {
        assertEquals("&amp;&lt;&gt;&quot;&#39;&#47;&#61;&#96;", Html.escape("&<>\"'/=`"));
        assertEquals("&lt;script&gt;alert(1)&lt;&#47;script&gt;", Html.escape("<script>alert(1)</script>"));
        assertEquals("&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;", Html.escape("\"><img src=x onerror=alert(1)>"));
        assertEquals("&amp;amp;", Html.escape("&amp;"));
    }

    @Test
    void leavesOrdinaryTextAlone() {
        String s = "Claude Desktop \u00e9\u00e8 \u4e2d\u6587 \uD83D\uDE00 1.2-3_4~";
        assertSame(s, Html.escape(s));
        assertEquals("", Html.escape(""));
        assertEquals("", Html.escape(null));
    }

    @Test
    void escapedOutputHasNoRawSpecials() {
        String out = Html.escape("a<b>c\"d'e/f=g`h&i");
        for (char c : "<>\"'/=`".toCharArray()) assertEquals(-1, out.indexOf(c), String.valueOf(c));
    }

    @Test
    void pageIsACompleteSelfContainedDocument() {
        String page = Html.page("T<itle>", "<p>body</p>");
        assertTrue(page.startsWith("<!DOCTYPE html>"));
        assertTrue(page.contains("<html lang=\"en\">"));
        assertTrue(page.contains("<meta charset=\"utf-8\">"));
        assertTrue(page.contains("name=\"viewport\""));
        assertTrue(page.contains("<title>T&lt;itle&gt;</title>"));
        assertTrue(page.contains("<p>body</p>"));
        assertTrue(page.contains("<style>"));
        assertTrue(page.contains("system-ui"));
        assertTrue(page.trim().endsWith("</html>"));
        String lower = page.toLowerCase();
        assertFalse(lower.contains("<script"));
        assertFalse(lower.contains("<link"));
        assertFalse(lower.contains("http://"));
        assertFalse(lower.contains("https://"));
        assertFalse(lower.contains("url("));
        assertFalse(lower.contains("@import"));
    }

    @Test
    void securityHeadersInOrder() {
        assertEquals(List.of("X-Frame-Options", "Content-Security-Policy", "Cache-Control", "Pragma", "Referrer-Policy",
                "X-Content-Type-Options"), List.copyOf(Html.SECURITY_HEADERS.keySet()));
        assertEquals("DENY", Html.SECURITY_HEADERS.get("X-Frame-Options"));
        assertEquals("no-store", Html.SECURITY_HEADERS.get("Cache-Control"));
        assertEquals("no-cache", Html.SECURITY_HEADERS.get("Pragma"));
        assertEquals("no-referrer", Html.SECURITY_HEADERS.get("Referrer-Policy"));
        assertEquals("nosniff", Html.SECURITY_HEADERS.get("X-Content-Type-Options"));
        String csp = Html.SECURITY_HEADERS.get("Content-Security-Policy");
        assertTrue(csp.contains("default-src 'none'"));
        assertTrue(csp.contains("style-src 'unsafe-inline'"));
        assertTrue(csp.contains("frame-ancestors 'none'"));
        assertTrue(csp.contains("base-uri 'none'"));
        assertTrue(csp.contains("img-src data:"));
        assertFalse(csp.contains("script-src"));
        // form-action would block the consent form's 303 to the client in Chromium and Safari
        assertFalse(csp.contains("form-action"));
        assertThrows(UnsupportedOperationException.class, () -> Html.SECURITY_HEADERS.put("x", "y"));
    }
}
