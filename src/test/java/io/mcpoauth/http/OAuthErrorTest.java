package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class OAuthErrorTest {

    @Test
    void carriesCodeDescriptionAndStatus() {
        OAuthError e = OAuthError.invalidGrant("The code_verifier does not match the code_challenge sent to /authorize.");
        assertEquals("invalid_grant", e.code());
        assertEquals("The code_verifier does not match the code_challenge sent to /authorize.", e.description());
        assertEquals(400, e.httpStatus());
        assertTrue(e.getMessage().contains("invalid_grant"));
    }

    @Test
    void defaultStatuses() {
        assertEquals(401, OAuthError.invalidClient("x").httpStatus());
        assertEquals(401, OAuthError.invalidToken("x").httpStatus());
        assertEquals(403, OAuthError.insufficientScope("x").httpStatus());
        assertEquals(500, OAuthError.serverError("x").httpStatus());
        assertEquals(503, OAuthError.temporarilyUnavailable("x").httpStatus());
        assertEquals(400, OAuthError.invalidRequest("x").httpStatus());
        assertEquals(400, OAuthError.unauthorizedClient("x").httpStatus());
        assertEquals(400, OAuthError.unsupportedGrantType("x").httpStatus());
        assertEquals(400, OAuthError.invalidScope("x").httpStatus());
        assertEquals(400, OAuthError.invalidTarget("x").httpStatus());
        assertEquals(400, OAuthError.invalidRedirectUri("x").httpStatus());
        assertEquals(400, OAuthError.invalidClientMetadata("x").httpStatus());
        assertEquals(400, OAuthError.accessDenied("x").httpStatus());
        assertEquals(400, OAuthError.unsupportedResponseType("x").httpStatus());
        assertEquals(418, new OAuthError("invalid_request", "x", 418).httpStatus());
    }

    @Test
    void factoriesUseTheRegisteredCodes() {
        assertEquals("invalid_request", OAuthError.invalidRequest("x").code());
        assertEquals("invalid_client", OAuthError.invalidClient("x").code());
        assertEquals("unauthorized_client", OAuthError.unauthorizedClient("x").code());
        assertEquals("unsupported_grant_type", OAuthError.unsupportedGrantType("x").code());
        assertEquals("invalid_scope", OAuthError.invalidScope("x").code());
        assertEquals("invalid_target", OAuthError.invalidTarget("x").code());
        assertEquals("invalid_redirect_uri", OAuthError.invalidRedirectUri("x").code());
        assertEquals("invalid_client_metadata", OAuthError.invalidClientMetadata("x").code());
        assertEquals("access_denied", OAuthError.accessDenied("x").code());
        assertEquals("unsupported_response_type", OAuthError.unsupportedResponseType("x").code());
        assertEquals("server_error", OAuthError.serverError("x").code());
        assertEquals("temporarily_unavailable", OAuthError.temporarilyUnavailable("x").code());
        assertEquals("invalid_token", OAuthError.invalidToken("x").code());
        assertEquals("insufficient_scope", OAuthError.insufficientScope("x").code());
    }

    @Test
    void noStackTraceIsCaptured() {
        assertEquals(0, OAuthError.invalidRequest("x").getStackTrace().length);
    }

    @Test
    void descriptionIsRestrictedToTheRfc6749CharacterSet() {
        OAuthError e = OAuthError.invalidRequest("bad \"quote\" \\ back\r\nslash \u00e9 \u202e end");
        assertEquals("bad ?quote? ? back??slash ? ? end", e.description());
        for (char c : e.description().toCharArray()) {
            assertTrue(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\', "char " + (int) c);
        }
    }

    @Test
    void longDescriptionsAreCut() {
        OAuthError e = OAuthError.invalidRequest("a".repeat(5000));
        assertEquals(400, e.description().length());
        assertTrue(e.description().endsWith("..."));
    }

    @Test
    void emptyDescriptionGetsASentence() {
        assertEquals("The request was refused.", OAuthError.invalidRequest(null).description());
    }

    @Test
    void codeIsRequired() {
        assertThrows(IllegalArgumentException.class, () -> new OAuthError("", "x"));
    }
}
