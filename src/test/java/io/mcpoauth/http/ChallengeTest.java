package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ChallengeTest {

    @Test
    void parametersInTheOrderGivenNullsLeftOut() {
        assertEquals("Bearer resource_metadata=\"https://x/m\", scope=\"mcp\"",
                Challenge.bearer().error(null).param("resource_metadata", "https://x/m").param("scope", "mcp").toString());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"a b\", resource_metadata=\"https://x/m\"",
                Challenge.bearer().error("insufficient_scope").param("scope", "a b").param("resource_metadata", "https://x/m").toString());
        assertEquals("Basic realm=\"mcp-oauth-server\"", Challenge.basic().realm(Challenge.REALM).toString());
        assertEquals("Bearer", Challenge.bearer().toString());
    }

    @Test
    void quotesAndBackslashesAreEscaped() {
        assertEquals("Bearer realm=\"a\\\"b\\\\c\"", Challenge.bearer().realm("a\"b\\c").toString());
    }
}
