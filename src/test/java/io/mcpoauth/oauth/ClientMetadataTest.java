package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import io.mcpoauth.http.OAuthError;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientMetadataTest {
    static final Set<String> SCOPES = Set.of("mcp");

    static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static ClientMetadata parse(String s) {
        return ClientMetadata.fromRequest(json(s), SCOPES);
    }

    static OAuthError refused(String s) {
        return assertThrows(OAuthError.class, () -> parse(s));
    }

    @Test
    void minimalRequestGetsDefaults() {
        ClientMetadata m = parse("{\"redirect_uris\":[\"https://claude.ai/api/mcp/auth_callback\"]}");
        assertEquals(List.of("https://claude.ai/api/mcp/auth_callback"), m.redirectUris());
        assertEquals(List.of("authorization_code", "refresh_token"), m.grantTypes());
        assertEquals(List.of("code"), m.responseTypes());
        assertEquals("client_secret_basic", m.tokenEndpointAuthMethod());
        assertTrue(m.isConfidential());
        assertNull(m.clientName());
        assertNull(m.scope());
        assertNull(m.clientUri());
        assertNull(m.softwareId());
        assertNull(m.softwareVersion());
    }

    @Test
    void mcpRemoteStyleRequest() {
        ClientMetadata m = parse("{\"client_name\":\"MCP CLI Proxy\",\"redirect_uris\":[\"http://localhost:3334/oauth/callback\"],"
                + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"none\",\"scope\":\"mcp\",\"client_uri\":\"https://github.com/geelen/mcp-remote\","
                + "\"software_id\":\"2e6dc280-f3c3-4e01-99a7-8181dbd1d23d\",\"software_version\":\"0.1.29\"}");
        assertEquals("MCP CLI Proxy", m.clientName());
        assertEquals("none", m.tokenEndpointAuthMethod());
        assertFalse(m.isConfidential());
        assertEquals("mcp", m.scope());
        assertEquals("https://github.com/geelen/mcp-remote", m.clientUri());
        assertEquals("2e6dc280-f3c3-4e01-99a7-8181dbd1d23d", m.softwareId());
        assertEquals("0.1.29", m.softwareVersion());
    }

    @Test
    void cursorThreeRedirectUris() {
        ClientMetadata m = parse("{\"client_name\":\"Cursor\",\"redirect_uris\":[\"cursor://anysphere.cursor-mcp/oauth/callback\","
                + "\"https://www.cursor.com/agents/mcp/oauth/callback\",\"http://localhost:8787/callback\"],"
                + "\"token_endpoint_auth_method\":\"client_secret_post\"}");
        assertEquals(3, m.redirectUris().size());
        assertTrue(m.isConfidential());
    }

    @Test
    void clientChosenIdSecretAndUnknownFieldsAreIgnored() {
        ClientMetadata m = parse("{\"client_id\":\"admin\",\"client_secret\":\"s\",\"client_id_issued_at\":1,"
                + "\"logo_uri\":\"javascript:x\",\"jwks\":{\"keys\":[]},\"anything\":[1,{\"a\":null}],"
                + "\"redirect_uris\":[\"https://app.example/cb\"]}");
        assertEquals(List.of("https://app.example/cb"), m.redirectUris());
    }

    @Test
    void onlyRefreshAndCodeGrantTypes() {
        assertEquals(List.of("authorization_code"),
                parse("{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"authorization_code\"]}").grantTypes());
        assertEquals(List.of("refresh_token", "authorization_code"), parse("{\"redirect_uris\":[\"https://a.example/cb\"],"
                + "\"grant_types\":[\"refresh_token\",\"authorization_code\",\"refresh_token\"]}").grantTypes());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[\"password\"]",
            "[\"authorization_code\",\"password\"]",
            "[\"implicit\"]",
            "[\"client_credentials\"]",
            "[\"authorization_code\",\"urn:ietf:params:oauth:grant-type:device_code\"]",
            "[\"refresh_token\"]",
            "[]",
            "\"authorization_code\"",
            "[1]",
            "[null]",
            "{}",
    })
    void badGrantTypes(String grantTypes) {
        OAuthError e = refused("{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":" + grantTypes + "}");
        assertEquals("invalid_client_metadata", e.code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"token\"]", "[\"code\",\"token\"]", "[\"code id_token\"]", "[]", "\"code\"", "[true]"})
    void badResponseTypes(String responseTypes) {
        OAuthError e = refused("{\"redirect_uris\":[\"https://a.example/cb\"],\"response_types\":" + responseTypes + "}");
        assertEquals("invalid_client_metadata", e.code());
    }

    @Test
    void duplicateCodeResponseTypeIsFine() {
        assertEquals(List.of("code"), parse("{\"redirect_uris\":[\"https://a.example/cb\"],\"response_types\":[\"code\",\"code\"]}").responseTypes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"private_key_jwt\"", "\"client_secret_jwt\"", "\"tls_client_auth\"", "\"\"", "\"NONE\"", "1", "[\"none\"]", "true"})
    void badAuthMethods(String method) {
        OAuthError e = refused("{\"redirect_uris\":[\"https://a.example/cb\"],\"token_endpoint_auth_method\":" + method + "}");
        assertEquals("invalid_client_metadata", e.code());
    }

    @Test
    void authMethodSentenceListsTheChoices() {
        OAuthError e = refused("{\"redirect_uris\":[\"https://a.example/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\"}");
        assertEquals("The token_endpoint_auth_method 'private_key_jwt' is not supported: use none, client_secret_post or client_secret_basic.",
                e.description());
    }

    @Test
    void redirectUrisAreRequired() {
        for (String body : new String[] {"{}", "{\"redirect_uris\":null}", "{\"redirect_uris\":[]}"}) {
            OAuthError e = refused(body);
            assertEquals("invalid_redirect_uri", e.code(), body);
            assertTrue(e.description().startsWith("redirect_uris is required"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"https://a.example/cb\"", "[1]", "[null]", "[[\"https://a.example/cb\"]]", "{\"a\":1}", "true",
            "[\"http://evil.example/cb\"]", "[\"javascript:alert(1)\"]", "[\"https://chatgpt.com@evil/\"]", "[\"https://a/#x\"]"})
    void badRedirectUris(String uris) {
        assertEquals("invalid_redirect_uri", refused("{\"redirect_uris\":" + uris + "}").code());
    }

    @Test
    void tenThousandRedirectUris() {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode a = body.putArray("redirect_uris");
        for (int i = 0; i < 10_000; i++) a.add("https://a.example/cb" + i);
        OAuthError e = assertThrows(OAuthError.class, () -> ClientMetadata.fromRequest(body, SCOPES));
        assertEquals("invalid_redirect_uri", e.code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"x\"", "1", "null", "true"})
    void bodyMustBeAnObject(String body) {
        OAuthError e = refused(body);
        assertEquals("invalid_client_metadata", e.code());
        assertEquals("The registration request must be a JSON object.", e.description());
    }

    @Test
    void nullBody() {
        assertEquals("invalid_client_metadata",
                assertThrows(OAuthError.class, () -> ClientMetadata.fromRequest(null, SCOPES)).code());
    }

    @Test
    void clientNameRules() {
        String base = "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":";
        assertEquals("<script>alert(1)</script>", parse(base + "\"<script>alert(1)</script>\"}").clientName());
        assertEquals("Claude", parse(base + "\"  Claude \"}").clientName());
        assertNull(parse(base + "\"   \"}").clientName());
        assertNull(parse(base + "null}").clientName());
        assertEquals("\u00e9".repeat(200), parse(base + "\"" + "\u00e9".repeat(200) + "\"}").clientName());
        assertEquals("\uD83D\uDE00".repeat(200), parse(base + "\"" + "\uD83D\uDE00".repeat(200) + "\"}").clientName());
        for (String bad : new String[] {"\"" + "a".repeat(201) + "\"", "\"Good\\u202Eevil\"", "\"a\\u2066b\"", "\"a\\u200Fb\"",
                "\"a\\u200Eb\"", "\"a\\u202Ab\"", "\"a\\u2069b\"", "\"a\\nb\"", "\"a\\u0000b\"", "\"a\\u007Fb\"", "\"a\\u0085b\"",
                "5", "[\"x\"]", "{}", "true"}) {
            OAuthError e = refused(base + bad + "}");
            assertEquals("invalid_client_metadata", e.code(), bad);
            assertTrue(e.description().startsWith("client_name"), e.description());
        }
    }

    @Test
    void scopeRules() {
        String base = "{\"redirect_uris\":[\"https://a.example/cb\"],\"scope\":";
        assertEquals("mcp", parse(base + "\" mcp  mcp \"}").scope());
        assertNull(parse(base + "\"\"}").scope());
        OAuthError e = refused(base + "\"mcp admin\"}");
        assertEquals("invalid_client_metadata", e.code());
        assertTrue(e.description().contains("'admin'"));
        assertEquals("invalid_client_metadata", refused(base + "[\"mcp\"]}").code());
    }

    @Test
    void clientUriRules() {
        String base = "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_uri\":";
        assertEquals("https://app.example/", parse(base + "\"https://app.example/\"}").clientUri());
        assertEquals("http://localhost:3000", parse(base + "\"http://localhost:3000\"}").clientUri());
        for (String bad : new String[] {"\"http://app.example/\"", "\"javascript:alert(1)\"", "\"cursor://x\"", "\"/relative\"",
                "\"https://u@app.example/\"", "\"data:x\"", "1", "\"\""}) {
            assertEquals("invalid_client_metadata", refused(base + bad + "}").code(), bad);
        }
    }

    @Test
    void softwareFields() {
        String base = "{\"redirect_uris\":[\"https://a.example/cb\"],";
        assertEquals("invalid_client_metadata", refused(base + "\"software_id\":1}").code());
        assertEquals("invalid_client_metadata", refused(base + "\"software_version\":\"" + "1".repeat(201) + "\"}").code());
        assertEquals("invalid_client_metadata", refused(base + "\"software_version\":\"1\\r\\n\"}").code());
        assertEquals("1".repeat(200), parse(base + "\"software_version\":\"" + "1".repeat(200) + "\"}").softwareVersion());
    }

    @Test
    void recordListsAreImmutable() {
        ClientMetadata m = parse("{\"redirect_uris\":[\"https://a.example/cb\"]}");
        assertThrows(UnsupportedOperationException.class, () -> m.redirectUris().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> m.grantTypes().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> m.responseTypes().add("x"));
    }

    @Test
    void jsonSerialisationHasNoNulls() throws Exception {
        String s = Json.MAPPER.writeValueAsString(parse("{\"redirect_uris\":[\"https://a.example/cb\"]}"));
        assertFalse(s.contains("null"), s);
    }

    @Test
    void wrongTypesNeverThrowAnythingButOAuthError() {
        String[] fields = {"redirect_uris", "grant_types", "response_types", "token_endpoint_auth_method", "client_name",
                "scope", "client_uri", "software_id", "software_version"};
        String[] values = {"1", "1.5", "true", "false", "{}", "[]", "[1]", "[{}]", "\"x\"", "[\"x\",2]", "{\"a\":[1]}"};
        for (String f : fields) {
            for (String v : values) {
                String body = "{\"redirect_uris\":[\"https://a.example/cb\"],\"" + f + "\":" + v + "}";
                if (f.equals("redirect_uris")) body = "{\"redirect_uris\":" + v + "}";
                String b = body;
                try {
                    parse(b);
                } catch (OAuthError expected) {
                    assertTrue(expected.code().equals("invalid_client_metadata") || expected.code().equals("invalid_redirect_uri"), b);
                } catch (RuntimeException other) {
                    fail(b + " threw " + other);
                }
            }
        }
    }
}
