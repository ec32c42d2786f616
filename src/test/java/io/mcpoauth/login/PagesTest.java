package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class PagesTest {
    static final String EVIL = "\"><script>alert(1)</script>";

    private static void noRawMarkup(String page) {
        String lower = page.toLowerCase();
        assertFalse(lower.contains("<script"), "script tag in page");
        assertFalse(page.contains(EVIL));
        assertFalse(lower.contains("<a "), "link in page");
    }

    @Test
    void loginForm() {
        String p = Pages.login("/authorize/login", "csrf123", "txn456", "Claude", null, null);
        assertTrue(p.startsWith("<!DOCTYPE html>"));
        assertTrue(p.contains("<h1>Sign in</h1>"));
        assertTrue(p.contains("<form method=\"post\" action=\"/authorize/login\">"));
        assertTrue(p.contains("name=\"username\""));
        assertTrue(p.contains("type=\"password\" id=\"password\" name=\"password\""));
        assertTrue(p.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrf123\">"));
        assertTrue(p.contains("<input type=\"hidden\" name=\"txn\" value=\"txn456\">"));
        assertTrue(p.contains("<strong>Claude</strong> is asking"));
        assertTrue(p.contains("autocomplete=\"current-password\""));
        assertFalse(p.contains("class=\"error\""));
        assertTrue(p.contains("value=\"\""), "empty username value");
    }

    @Test
    void loginShowsErrorAndKeepsUsername() {
        String p = Pages.login("/login", "c", "t", "App", "The user name or password is wrong.", "alice");
        assertTrue(p.contains("<p class=\"error\" role=\"alert\">The user name or password is wrong.</p>"));
        assertTrue(p.contains("value=\"alice\""));
    }

    @Test
    void loginEscapesEverything() {
        String p = Pages.login("/login", EVIL, EVIL, EVIL, EVIL, EVIL);
        noRawMarkup(p);
        assertTrue(p.contains("&quot;&gt;&lt;script&gt;"));
    }

    @Test
    void unnamedClient() {
        assertTrue(Pages.login("/login", "c", "t", null, null, null).contains("An unnamed application"));
        assertTrue(Pages.consent("/c", "c", "t", "  ", "h", List.of(), "u").contains("An unnamed application"));
    }

    @Test
    void actionPathMustBeAPlainPath() {
        for (String bad : new String[] {null, "", "https://evil.example/", "//evil.example/x", "/x\"><script>", "javascript:x", "/a b"}) {
            assertThrows(IllegalArgumentException.class, () -> Pages.login(bad, "c", "t", "n", null, null), String.valueOf(bad));
            assertThrows(IllegalArgumentException.class, () -> Pages.consent(bad, "c", "t", "n", "h", List.of(), "u"), String.valueOf(bad));
        }
    }

    @Test
    void consentForm() {
        String p = Pages.consent("/authorize/consent", "csrfX", "txnY", "Cursor", "anysphere.cursor-mcp",
                List.of("mcp", "custom:thing"), "alice");
        assertTrue(p.contains("<strong>Cursor</strong>"));
        assertTrue(p.contains("After you decide, you will be sent to <strong>anysphere.cursor-mcp</strong>."));
        assertTrue(p.contains("Use the tools of this MCP server as you"));
        assertTrue(p.contains("<code>custom:thing</code>"));
        assertTrue(p.contains("Signed in as <strong>alice</strong>"));
        assertTrue(p.contains("<form method=\"post\" action=\"/authorize/consent\">"));
        assertTrue(p.contains("name=\"decision\" value=\"allow\""));
        assertTrue(p.contains("name=\"decision\" value=\"deny\""));
        assertTrue(p.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrfX\">"));
        assertTrue(p.contains("<input type=\"hidden\" name=\"txn\" value=\"txnY\">"));
        assertTrue(p.contains("not been verified"));
        // Deny is the first submit button, so pressing Enter never grants access
        assertTrue(p.indexOf("value=\"deny\"") < p.indexOf("value=\"allow\""));
    }

    @Test
    void consentEscapesClientNameHostScopesAndUser() {
        String rtl = "Good App\u202Eevil";
        String p = Pages.consent("/authorize/consent", EVIL, EVIL, EVIL + rtl, EVIL, List.of(EVIL, "mcp"), EVIL);
        noRawMarkup(p);
        assertEquals(5, count(p, "&quot;&gt;&lt;script&gt;alert(1)&lt;&#47;script&gt;") - 1, "csrf, txn, name, host, scope, user");
    }

    @Test
    void consentWithoutScopes() {
        assertTrue(Pages.consent("/c", "c", "t", "n", "h", List.of(), "u").contains("basic access"));
        assertTrue(Pages.consent("/c", "c", "t", "n", "h", null, "u").contains("basic access"));
    }

    @Test
    void errorPage() {
        String p = Pages.error("Unknown application", "The client_id is not registered here.");
        assertTrue(p.contains("<title>Unknown application</title>"));
        assertTrue(p.contains("<h1>Unknown application</h1>"));
        assertTrue(p.contains("<p>The client_id is not registered here.</p>"));
        assertFalse(p.toLowerCase().contains("<a "));
        assertFalse(p.toLowerCase().contains("<form"));
    }

    @Test
    void errorPageNeverRendersInputAsMarkupOrLink() {
        String p = Pages.error(EVIL, "Bad redirect_uri javascript:alert(1) " + EVIL);
        noRawMarkup(p);
        assertFalse(p.contains("href"));
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
