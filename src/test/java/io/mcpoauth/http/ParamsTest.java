package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParamsTest {

    @Test
    void parsesAndDecodes() {
        Params p = Params.parseUrlEncoded("grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=a+b%2Bc");
        assertEquals("authorization_code", p.single("grant_type"));
        assertEquals("https://app.example/cb", p.single("redirect_uri"));
        assertEquals("a b+c", p.single("state"));
        assertEquals(List.of("grant_type", "redirect_uri", "state"), List.copyOf(p.names()));
        assertNull(p.duplicated());
    }

    @Test
    void decodesUtf8() {
        Params p = Params.parseUrlEncoded("name=J%C3%BCrgen&emoji=%F0%9F%98%80&raw=\u00e9");
        assertEquals("J\u00fcrgen", p.single("name"));
        assertEquals("\uD83D\uDE00", p.single("emoji"));
        assertEquals("\u00e9", p.single("raw"));
    }

    @Test
    void namesAreDecodedToo() {
        assertEquals("x", Params.parseUrlEncoded("code%5Fverifier=x").single("code_verifier"));
    }

    @Test
    void malformedEscapesAreInvalidRequest() {
        for (String raw : new String[] {"a=%", "a=%4", "a=%zz", "a=%G0", "%=1", "a=b%2"}) {
            OAuthError e = assertThrows(OAuthError.class, () -> Params.parseUrlEncoded(raw), raw);
            assertEquals("invalid_request", e.code());
            assertEquals("The request contains a malformed percent-escape.", e.description());
        }
    }

    @Test
    void invalidUtf8IsInvalidRequest() {
        for (String raw : new String[] {"a=%FF", "a=%C3", "a=%C3%28", "a=%ED%A0%80"}) {
            OAuthError e = assertThrows(OAuthError.class, () -> Params.parseUrlEncoded(raw), raw);
            assertEquals("invalid_request", e.code());
        }
    }

    @Test
    void duplicatesAreDetected() {
        Params p = Params.parseUrlEncoded("client_id=a&state=1&redirect_uri=x&state=2&redirect_uri=y");
        assertEquals("state", p.duplicated());
        assertEquals("a", p.single("client_id"));
        OAuthError e = assertThrows(OAuthError.class, () -> p.single("redirect_uri"));
        assertEquals("invalid_request", e.code());
        assertEquals("The parameter redirect_uri was given more than once.", e.description());
        OAuthError all = assertThrows(OAuthError.class, p::requireNoDuplicates);
        assertEquals("The parameter state was given more than once.", all.description());
        assertEquals("1", p.first("state"));
    }

    @Test
    void aRepeatWithAnEmptyValueStillCountsAsARepeat() {
        Params p = Params.parseUrlEncoded("state=&state=x");
        assertEquals("state", p.duplicated());
        assertThrows(OAuthError.class, () -> p.single("state"));
        assertEquals("x", p.first("state"));
    }

    @Test
    void emptyValueMeansAbsent() {
        Params p = Params.parseUrlEncoded("scope=&state&resource=x");
        assertNull(p.single("scope"));
        assertNull(p.first("scope"));
        assertNull(p.single("state"));
        assertFalse(p.has("scope"));
        assertTrue(p.has("resource"));
        assertNull(p.single("missing"));
        assertTrue(p.names().contains("scope"));
        OAuthError e = assertThrows(OAuthError.class, () -> p.required("scope"));
        assertEquals("The parameter scope is required.", e.description());
        assertEquals("x", p.required("resource"));
    }

    @Test
    void emptyInputs() {
        for (String raw : new String[] {null, "", "&", "&&", "=x", "=&="}) {
            Params p = Params.parseUrlEncoded(raw);
            assertTrue(p.names().isEmpty(), String.valueOf(raw));
            assertNull(p.duplicated());
        }
    }

    @Test
    void valueMayContainEquals() {
        assertEquals("a=b", Params.parseUrlEncoded("x=a=b").single("x"));
    }

    @Test
    void tooManyParameters() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i <= Params.MAX_PARAMS; i++) b.append("p").append(i).append("=1&");
        OAuthError e = assertThrows(OAuthError.class, () -> Params.parseUrlEncoded(b.toString()));
        assertEquals("invalid_request", e.code());
    }

    @Test
    void wrapsAMultiMap() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("a", List.of("1"));
        m.put("b", List.of("2", "3"));
        m.put("c", List.of(""));
        Params p = Params.of(m);
        assertEquals("1", p.single("a"));
        assertEquals("b", p.duplicated());
        assertNull(p.single("c"));
        assertTrue(Params.of(null).names().isEmpty());
    }

    @Test
    void namesAreUnmodifiable() {
        assertThrows(UnsupportedOperationException.class, () -> Params.parseUrlEncoded("a=1").names().add("b"));
    }
}
