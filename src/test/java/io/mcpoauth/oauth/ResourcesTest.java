package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.*;

import io.mcpoauth.http.OAuthError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResourcesTest {
    static final String OURS = "https://mcp.example.com/mcp";

    @ParameterizedTest
    @ValueSource(strings = {
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/mcp?chatgpt=1",
            "https://mcp.example.com/mcp/?a=b&c=d",
            "https://mcp.example.com/mcp?",
            "HTTPS://MCP.EXAMPLE.COM/mcp",
            "https://mcp.example.com:443/mcp",
    })
    void matching(String presented) {
        assertTrue(Resources.matchesOurResource(presented, OURS));
        assertEquals(OURS, Resources.requireOurResource(presented, OURS));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "https://other.example.com/mcp",
            "https://mcp.example.com/other",
            "https://mcp.example.com/mcp/x",
            "https://mcp.example.com/MCP",
            "https://mcp.example.com/mcp//",
            "https://mcp.example.com",
            "https://mcp.example.com/",
            "https://mcp.example.com:8443/mcp",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com.evil/mcp",
            "ftp://mcp.example.com/mcp",
    })
    void otherServers(String presented) {
        assertFalse(Resources.matchesOurResource(presented, OURS));
        OAuthError e = assertThrows(OAuthError.class, () -> Resources.requireOurResource(presented, OURS));
        assertEquals("invalid_target", e.code());
        assertEquals(400, e.httpStatus());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/mcp",
            "mcp",
            "//mcp.example.com/mcp",
            "https://mcp.example.com/mcp#frag",
            "https://mcp.example.com/mcp#",
            "urn:example:mcp",
            "https://evil@mcp.example.com/mcp",
            "https:///mcp",
            "https://mcp.example.com/m cp",
            "https://mcp.example.com/mcp\r\n",
            "https://mcp.example.com/%zz",
    })
    void notAbsoluteOrFragment(String presented) {
        assertFalse(Resources.matchesOurResource(presented, OURS));
        OAuthError e = assertThrows(OAuthError.class, () -> Resources.requireOurResource(presented, OURS));
        assertEquals("invalid_target", e.code());
        assertEquals("The resource parameter must be an absolute URI (scheme and host) without user information or a fragment.", e.description());
    }

    @Test
    void absentMeansOurs() {
        assertEquals(OURS, Resources.requireOurResource(null, OURS));
        assertEquals(OURS, Resources.requireOurResource("", OURS));
        assertFalse(Resources.matchesOurResource(null, OURS));
    }

    @Test
    void mismatchSentenceNamesBoth() {
        OAuthError e = assertThrows(OAuthError.class, () -> Resources.requireOurResource("https://other.example/mcp", OURS));
        assertEquals("The resource 'https://other.example/mcp' is not served by this authorization server; the only resource is "
                + OURS + ".", e.description());
    }

    @Test
    void localPortsAreCompared() {
        String local = "http://127.0.0.1:8080/mcp";
        assertTrue(Resources.matchesOurResource("http://127.0.0.1:8080/mcp?x", local));
        assertFalse(Resources.matchesOurResource("http://127.0.0.1:8081/mcp", local));
        assertFalse(Resources.matchesOurResource("http://127.0.0.1/mcp", local));
    }

    @Test
    void queryOnOurOwnConfiguredValueIsAlsoIgnored() {
        assertTrue(Resources.matchesOurResource("https://mcp.example.com/mcp", "https://mcp.example.com/mcp/"));
    }
}
