package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostPolicyTest {

    @Test
    void httpsPublicUrlWithDefaultPort() {
        HostPolicy p = new HostPolicy(URI.create("https://mcp.example.com"), List.of());
        for (String ok : List.of("mcp.example.com", "MCP.Example.COM", "mcp.example.com:443")) assertTrue(p.hostAllowed(ok), ok);
        for (String bad : List.of("mcp.example.com:8443", "mcp.example.com:80x", "evil.example.com", "localhost", "127.0.0.1",
                "mcp.example.com.evil.com", "mcp.example.com:0", "mcp.example.com:99999", "", "a b", "mcp.example.com:", "user@mcp.example.com")) {
            assertFalse(p.hostAllowed(bad), bad);
        }
        assertFalse(p.hostAllowed(null));
        assertTrue(p.originAllowed(null));
        assertTrue(p.originAllowed("https://mcp.example.com"));
        assertTrue(p.originAllowed("https://mcp.example.com:443"));
        for (String bad : List.of("http://mcp.example.com", "https://mcp.example.com:8443", "null", "https://evil.example.com",
                "https://mcp.example.com/", "https://mcp.example.com?x", "ftp://mcp.example.com", "https://u@mcp.example.com", "%%%")) {
            assertFalse(p.originAllowed(bad), bad);
        }
    }

    @Test
    void loopbackPublicUrlAllowsTheLoopbackNamesOnItsPort() {
        HostPolicy p = new HostPolicy(URI.create("http://127.0.0.1:8000"), List.of());
        for (String ok : List.of("127.0.0.1:8000", "localhost:8000", "[::1]:8000")) assertTrue(p.hostAllowed(ok), ok);
        for (String bad : List.of("localhost", "localhost:8001", "[::1]", "evil.example.com:8000", "127.0.0.2:8000")) assertFalse(p.hostAllowed(bad), bad);
        assertTrue(p.originAllowed("http://localhost:8000"));
        assertFalse(p.originAllowed("http://localhost:3000"));

        HostPolicy v6 = new HostPolicy(URI.create("http://[::1]:9000"), List.of());
        assertTrue(v6.hostAllowed("[::1]:9000"));
        assertTrue(v6.hostAllowed("localhost:9000"));
    }

    @Test
    void nonLoopbackPublicUrlDoesNotAllowLoopbackNames() {
        HostPolicy p = new HostPolicy(URI.create("https://mcp.example.com"), List.of());
        assertFalse(p.hostAllowed("localhost:443"));
        assertFalse(p.originAllowed("http://localhost"));
    }

    @Test
    void allowedHostsEntries() {
        HostPolicy p = new HostPolicy(URI.create("https://mcp.example.com"), List.of("internal", "proxy.local:8080", "[fd00::1]:81"));
        assertTrue(p.hostAllowed("internal"));
        assertTrue(p.hostAllowed("internal:9999"));
        assertTrue(p.hostAllowed("proxy.local:8080"));
        assertFalse(p.hostAllowed("proxy.local"));
        assertFalse(p.hostAllowed("proxy.local:8081"));
        assertTrue(p.hostAllowed("[FD00::1]:81"));
        assertTrue(p.originAllowed("http://internal:3000"));
        assertThrows(IllegalArgumentException.class, () -> new HostPolicy(URI.create("https://x.example"), List.of("bad/entry")));
    }
}
