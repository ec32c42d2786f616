package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.*;

import io.mcpoauth.http.OAuthError;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedirectUrisTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "https://chatgpt.com/connector/oauth/abc123",
            "https://claude.ai/api/mcp/auth_callback",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "https://www.cursor.com/agents/mcp/oauth/callback",
            "http://localhost:8787/callback",
            "http://localhost/callback",
            "http://localhost",
            "http://127.0.0.1:33418/oauth/callback",
            "http://[::1]:9000/cb",
            "http://[::1]/cb",
            "https://app.example:8443/cb?x=1&y=2",
            "https://app.example",
            "https://[2001:db8::1]/cb",
            "https://app.example/cb%20x",
            "com.example.app:/oauth2redirect",
            "vscode://vscode.github-authentication/did-authenticate",
            "my.app+x-y://cb",
    })
    void accepted(String uri) {
        assertDoesNotThrow(() -> RedirectUris.validateForRegistration(uri));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/callback",
            "callback",
            "//evil.example/cb",
            "https://app.example/cb#frag",
            "https://app.example/cb#",
            "cursor://cb#x",
            "https://chatgpt.com@evil/",
            "https://user:pass@app.example/cb",
            "https://*.example.com/cb",
            "https://app.example/*",
            "javascript:alert(1)",
            "javascript://%0aalert(1)",
            "data:text/html,<b>x</b>",
            "data:text/html;base64,PGI+",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "blob:https://app.example/uuid",
            "about:blank",
            "ftp://files.example/cb",
            "ws://localhost/cb",
            "wss://app.example/cb",
            "http://app.example/cb",
            "http://127.0.0.1.nip.io/cb",
            "http://localhost.evil/cb",
            "http://localhost.evil:8080/cb",
            "http://LOCALHOST/cb",
            "http://127.0.0.2/cb",
            "http://0.0.0.0/cb",
            "http://[::2]/cb",
            "https://app.example/c b",
            "https://app.example/cb\t",
            " https://app.example/cb",
            "https://app.example/cb\n",
            "https://app.example/\u0000",
            "https://app.example/\u00e9",
            "https://app\u202eelpmaxe/cb",
            "https://app.example/\"x",
            "https://app.example/<x>",
            "https://app.example\\@evil/",
            "https://app.example/%zz",
            "https://app.example/%2",
            "https://",
            "https:///path",
            "https:app.example/cb",
            "https://app.example:99999/cb",
            "https://app.example:0/cb",
            "https://app.example:/cb",
            "https://app.example:8x/cb",
            "https://app%2eexample/cb",
            "https://[nothex]/cb",
            "https://app.example/[x]",
            "HTTPS://app.example/cb",
            "Cursor://x/cb",
            "cursor:",
            "cursor://",
            "c:/windows/cb",
            "1app://cb",
            "",
    })
    void refused(String uri) {
        OAuthError e = assertThrows(OAuthError.class, () -> RedirectUris.validateForRegistration(uri));
        assertEquals("invalid_redirect_uri", e.code());
        assertEquals(400, e.httpStatus());
        assertTrue(e.description().endsWith("."), e.description());
        assertTrue(e.description().length() > 20, e.description());
    }

    @Test
    void nullIsRefused() {
        assertEquals("invalid_redirect_uri",
                assertThrows(OAuthError.class, () -> RedirectUris.validateForRegistration(null)).code());
    }

    @Test
    void lengthLimit() {
        String base = "https://app.example/";
        assertDoesNotThrow(() -> RedirectUris.validateForRegistration(base + "a".repeat(2000 - base.length())));
        OAuthError e = assertThrows(OAuthError.class,
                () -> RedirectUris.validateForRegistration(base + "a".repeat(2001 - base.length())));
        assertTrue(e.description().contains("2000"));
    }

    @Test
    void messagesSayWhatIsWrong() {
        assertTrue(message("http://app.example/cb").contains("localhost"));
        assertTrue(message("https://app.example/cb#x").contains("fragment"));
        assertTrue(message("https://a@b/").contains("user information"));
        assertTrue(message("javascript:alert(1)").contains("'javascript:' is not allowed"));
        assertTrue(message("/cb").contains("absolute URI"));
        assertTrue(message("https://*.x/").contains("wildcard"));
        assertTrue(message("cursor:").contains("needs something after"));
    }

    private static String message(String uri) {
        return assertThrows(OAuthError.class, () -> RedirectUris.validateForRegistration(uri)).description();
    }

    @Test
    void cursorRegistersThreeAtOnce() {
        List<String> uris = List.of("cursor://anysphere.cursor-mcp/oauth/callback",
                "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback");
        assertEquals(uris, RedirectUris.validateList(uris));
    }

    @Test
    void listRemovesDuplicatesKeepingOrder() {
        assertEquals(List.of("https://b.example/cb", "https://a.example/cb"), RedirectUris.validateList(
                List.of("https://b.example/cb", "https://a.example/cb", "https://b.example/cb")));
    }

    @Test
    void listIsRequired() {
        for (List<String> l : Arrays.asList(null, List.<String>of())) {
            OAuthError e = assertThrows(OAuthError.class, () -> RedirectUris.validateList(l));
            assertEquals("invalid_redirect_uri", e.code());
            assertTrue(e.description().startsWith("redirect_uris is required"));
        }
    }

    @Test
    void listSizeIsCapped() {
        List<String> twenty = new ArrayList<>();
        for (int i = 0; i < 20; i++) twenty.add("https://app.example/cb" + i);
        assertEquals(20, RedirectUris.validateList(twenty).size());
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) many.add("https://app.example/cb" + i);
        OAuthError e = assertThrows(OAuthError.class, () -> RedirectUris.validateList(many));
        assertEquals("invalid_redirect_uri", e.code());
        assertTrue(e.description().contains("At most 20"));
    }

    @Test
    void listRefusesAnyBadEntryAndNullEntries() {
        assertThrows(OAuthError.class, () -> RedirectUris.validateList(List.of("https://ok.example/cb", "http://evil.example/cb")));
        assertThrows(OAuthError.class, () -> RedirectUris.validateList(Arrays.asList("https://ok.example/cb", null)));
    }

    @Test
    void listResultIsImmutable() {
        List<String> out = RedirectUris.validateList(List.of("https://a.example/cb"));
        assertThrows(UnsupportedOperationException.class, () -> out.add("x"));
    }

    @Test
    void exactMatching() {
        String r = "https://app.example/cb";
        assertTrue(RedirectUris.matches(r, "https://app.example/cb"));
        assertFalse(RedirectUris.matches(r, "https://app.example/cb/"));
        assertFalse(RedirectUris.matches(r, "https://APP.example/cb"));
        assertFalse(RedirectUris.matches(r, "https://app.example/CB"));
        assertFalse(RedirectUris.matches(r, "https://app.example/cb?x=1"));
        assertFalse(RedirectUris.matches(r, "https://app.example:443/cb"));
        assertFalse(RedirectUris.matches("https://app.example/a/b", "https://app.example/a%2Fb"));
        assertFalse(RedirectUris.matches(r, "https://app.example/cb#x"));
        assertFalse(RedirectUris.matches(r, "http://app.example/cb"));
        assertFalse(RedirectUris.matches(r, null));
        assertFalse(RedirectUris.matches(null, r));
        assertFalse(RedirectUris.matches("https://app.example:8443/cb", "https://app.example:9443/cb"));
        assertTrue(RedirectUris.matches("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback"));
        assertFalse(RedirectUris.matches("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp:1/oauth/callback"));
    }

    @Test
    void loopbackMatchesAnyPort() {
        assertTrue(RedirectUris.matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assertTrue(RedirectUris.matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:51234/cb"));
        assertTrue(RedirectUris.matches("http://127.0.0.1:8000/cb", "http://127.0.0.1/cb"));
        assertTrue(RedirectUris.matches("http://localhost:3334/oauth/callback", "http://localhost:40001/oauth/callback"));
        assertTrue(RedirectUris.matches("http://[::1]/cb", "http://[::1]:7777/cb"));
        assertTrue(RedirectUris.matches("http://localhost/cb?a=1", "http://localhost:1/cb?a=1"));
        assertTrue(RedirectUris.matches("http://localhost", "http://localhost:9999"));
    }

    @Test
    void loopbackStillComparesEverythingButThePort() {
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "http://localhost:5000/cb"));
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb/"));
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/CB"));
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb?x=1"));
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "https://127.0.0.1:5000/cb"));
        assertFalse(RedirectUris.matches("http://127.0.0.1/cb", "http://127.0.0.1.nip.io:5000/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost.evil:5000/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:5000@evil.example/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://evil@localhost:5000/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:5000/cb#x"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:abc/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:99999/cb"));
        assertFalse(RedirectUris.matches("http://localhost/cb", "http://localhost:5000/cb\r\n"));
        // a non-loopback registered URI gets no port leniency
        assertFalse(RedirectUris.matches("https://localhost/cb", "https://localhost:5000/cb"));
    }

    @Test
    void resolveWithOneRegistered() {
        List<String> one = List.of("https://app.example/cb");
        assertEquals("https://app.example/cb", RedirectUris.resolve(one, null));
        assertEquals("https://app.example/cb", RedirectUris.resolve(one, ""));
        assertEquals("https://app.example/cb", RedirectUris.resolve(one, "https://app.example/cb"));
        assertNull(RedirectUris.resolve(one, "https://app.example/cb/"));
        assertNull(RedirectUris.resolve(one, "https://evil.example/cb"));
        assertNull(RedirectUris.resolve(one, "https://app.example/cb#x"));
    }

    @Test
    void resolveWithSeveralRegistered() {
        List<String> several = List.of("cursor://anysphere.cursor-mcp/oauth/callback",
                "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback");
        assertNull(RedirectUris.resolve(several, null));
        assertEquals("https://www.cursor.com/agents/mcp/oauth/callback",
                RedirectUris.resolve(several, "https://www.cursor.com/agents/mcp/oauth/callback"));
        // the presented loopback URI is returned with its own port
        assertEquals("http://localhost:9999/callback", RedirectUris.resolve(several, "http://localhost:9999/callback"));
        assertNull(RedirectUris.resolve(several, "http://localhost:9999/callback#x"));
        assertNull(RedirectUris.resolve(several, "https://evil.example/"));
    }

    @Test
    void resolveWithNothingRegistered() {
        assertNull(RedirectUris.resolve(List.of(), null));
        assertNull(RedirectUris.resolve(null, "https://app.example/cb"));
    }

    @Test
    void fragmentNeverResolvesEvenIfRegisteredSoByMistake() {
        assertNull(RedirectUris.resolve(List.of("https://app.example/cb#x"), "https://app.example/cb#x"));
    }

    @Test
    void displayHost() {
        assertEquals("claude.ai", RedirectUris.displayHost("https://claude.ai/api/mcp/auth_callback"));
        assertEquals("localhost:8787", RedirectUris.displayHost("http://localhost:8787/callback"));
        assertEquals("app.example", RedirectUris.displayHost("https://app.example?x=1"));
        assertEquals("cursor://anysphere.cursor-mcp", RedirectUris.displayHost("cursor://anysphere.cursor-mcp/oauth/callback"));
        assertEquals("com.example.app:", RedirectUris.displayHost("com.example.app:/oauth2redirect"));
    }
}
