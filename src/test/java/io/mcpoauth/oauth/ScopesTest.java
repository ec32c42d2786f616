package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.*;

import io.mcpoauth.http.OAuthError;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScopesTest {

    @Test
    void parseKeepsOrderAndDropsDuplicatesAndEmptyRuns() {
        assertEquals(List.of("b", "a", "c"), List.copyOf(Scopes.parse("  b a  b c ")));
        assertEquals(List.of("mcp"), List.copyOf(Scopes.parse("mcp")));
    }

    @Test
    void parseEmptyInputs() {
        assertTrue(Scopes.parse(null).isEmpty());
        assertTrue(Scopes.parse("").isEmpty());
        assertTrue(Scopes.parse("   ").isEmpty());
    }

    @Test
    void parseSplitsOnSpacesOnly() {
        // a tab is not a delimiter (RFC 6749 section 3.3), so this is one unknown scope
        assertEquals(Set.of("a\tb"), Scopes.parse("a\tb"));
        assertEquals(Set.of("a+b"), Scopes.parse("a+b"));
    }

    @Test
    void parseResultIsImmutable() {
        assertThrows(UnsupportedOperationException.class, () -> Scopes.parse("a").add("b"));
    }

    @Test
    void format() {
        Set<String> s = new LinkedHashSet<>(List.of("mcp", "offline_access"));
        assertEquals("mcp offline_access", Scopes.format(s));
        assertEquals("", Scopes.format(Set.of()));
        assertEquals("", Scopes.format(null));
        assertEquals("b a", Scopes.format(Scopes.parse(" b  a ")));
    }

    @Test
    void supportedScopesPass() {
        assertDoesNotThrow(() -> Scopes.requireSupported(Set.of("mcp"), Set.of("mcp", "x"), "invalid_scope"));
        assertDoesNotThrow(() -> Scopes.requireSupported(Set.of(), Set.of("mcp"), "invalid_scope"));
        assertDoesNotThrow(() -> Scopes.requireSupported(null, Set.of("mcp"), "invalid_scope"));
    }

    @Test
    void unknownScopesAreNamedWithTheGivenCode() {
        OAuthError e = assertThrows(OAuthError.class,
                () -> Scopes.requireSupported(Scopes.parse("mcp admin"), Set.of("mcp"), "invalid_scope"));
        assertEquals("invalid_scope", e.code());
        assertEquals(400, e.httpStatus());
        assertEquals("The scope 'admin' is not supported by this server. Supported scopes: mcp.", e.description());

        OAuthError m = assertThrows(OAuthError.class,
                () -> Scopes.requireSupported(Scopes.parse("a b"), Set.of("mcp"), "invalid_client_metadata"));
        assertEquals("invalid_client_metadata", m.code());
        assertTrue(m.description().startsWith("The scopes 'a', 'b' are not supported"), m.description());
    }

    @Test
    void manyOrHostileUnknownScopesStayShortAndSafe() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 1000; i++) b.append("s").append(i).append(' ');
        b.append("\"><script>").append("x".repeat(500));
        OAuthError e = assertThrows(OAuthError.class,
                () -> Scopes.requireSupported(Scopes.parse(b.toString()), Set.of("mcp"), "invalid_scope"));
        assertTrue(e.description().contains("and 996 more"), e.description());
        assertTrue(e.description().length() <= 400);
        assertFalse(e.description().contains("\""));
    }
}
