package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one check for "no Java internals leave in a body" (MCP 2026 _meta keys such as io.modelcontextprotocol/serverInfo are fine). */
final class NoStackTraces {
    private NoStackTraces() {}

    static void assertClean(McpTestServer.Res r) {
        String b = r.body();
        assertTrue(r.status() < 500, "never a 5xx: " + r);
        assertTrue(b.length() < 2000, "small body: " + b.length() + " chars: " + r);
        for (String tell : new String[]{"\tat ", "at io.", "at java.", "at org.", "stackTrace", "Exception", "suppressed", "localizedMessage", "io.modelcontextprotocol.", "com.fasterxml", "Caused by"}) {
            assertFalse(b.contains(tell), "body contains '" + tell + "': " + r);
        }
    }
}
