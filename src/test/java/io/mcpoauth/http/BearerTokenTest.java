package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BearerTokenTest {

    @Test
    void schemeIsCaseInsensitiveAndTheTokenIsTrimmed() {
        for (String h : new String[] {"Bearer abc", "bearer abc", "BEARER\tabc", "  Bearer   abc  "}) {
            BearerToken b = BearerToken.parse(h);
            assertEquals(BearerToken.Status.PRESENT, b.status(), h);
            assertEquals("abc", b.token(), h);
            assertTrue(b.b64token(), h);
        }
    }

    @Test
    void absentOtherSchemeAndMalformed() {
        assertEquals(BearerToken.Status.ABSENT, BearerToken.parse(null).status());
        assertEquals(BearerToken.Status.ABSENT, BearerToken.parse("   ").status());
        assertEquals(BearerToken.Status.OTHER_SCHEME, BearerToken.parse("Basic YWxpY2U6c2VjcmV0").status());
        assertEquals(BearerToken.Status.OTHER_SCHEME, BearerToken.parse("Bearerabc").status());
        for (String h : new String[] {"Bearer", "Bearer   ", "Bearer a b", "Bearer " + "a".repeat(BearerToken.MAX_LENGTH + 1)}) {
            BearerToken b = BearerToken.parse(h);
            assertEquals(BearerToken.Status.MALFORMED, b.status(), h);
            assertNull(b.token());
            assertFalse(b.b64token());
        }
        assertEquals(BearerToken.Status.PRESENT, BearerToken.parse("Bearer " + "a".repeat(BearerToken.MAX_LENGTH)).status());
    }

    @Test
    void b64tokenSyntax() {
        assertTrue(BearerToken.parse("Bearer aZ09-._~+/==").b64token());
        assertFalse(BearerToken.parse("Bearer \"quoted\"").b64token());
        assertFalse(BearerToken.parse("Bearer ä").b64token());
        assertFalse(BearerToken.parse("Bearer a=b").b64token());
    }

    @Test
    void queryTokenDetection() {
        assertTrue(BearerToken.inQuery("access_token=x", "access_token"));
        assertTrue(BearerToken.inQuery("a=1&Access_Token=x", "access_token"));
        assertTrue(BearerToken.inQuery("a=1&access%5Ftoken=x", "access_token"));
        assertTrue(BearerToken.inQuery("access_token", "access_token"));
        assertFalse(BearerToken.inQuery("my_access_token=x", "access_token"));
        assertFalse(BearerToken.inQuery(null, "access_token"));
        assertFalse(BearerToken.inQuery("%zz=1", "access_token"));
    }
}
