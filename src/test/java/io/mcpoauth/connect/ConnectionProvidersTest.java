package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.idp.FakeIdp;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The "connections" of the servers file: presets, discovery, and one clear line per mistake. */
class ConnectionProvidersTest {
    private static final Map<String, String> ENV = Map.of("GH_SECRET", "s3cret");

    private static ConnectionProviders parse(String connections) {
        return ConnectionProviders.parse("mcp-servers.json", "{\"servers\": {}, \"connections\": " + connections + "}", ENV::get,
                new ConnectionProviders.Discovery(Duration.ofSeconds(5)));
    }

    private static String error(String connections) {
        return assertThrows(ConfigException.class, () -> parse(connections)).getMessage();
    }

    @Test
    void presetsFillTheEndpointsAndSecretsComeFromTheEnvironment() {
        ConnectionProviders p = parse("{\"github\": {\"preset\": \"github\", \"client_id\": \"abc\", \"client_secret\": \"${GH_SECRET}\", "
                + "\"scopes\": [\"repo\"]}, \"gmail\": {\"preset\": \"google\", \"client_id\": \"g\", \"client_secret\": \"${GH_SECRET}\", "
                + "\"scopes\": [\"https://www.googleapis.com/auth/gmail.readonly\"]}, \"rez\": {\"type\": \"secret\", \"display_name\": \"OwnerRez\"}}");
        ConnectionProvider gh = p.get("github");
        assertEquals("https://github.com/login/oauth/access_token", gh.tokenEndpoint());
        assertEquals("s3cret", gh.clientSecret());
        assertFalse(gh.toString().contains("s3cret"), "the secret is never printed");
        assertEquals("client_secret_post", gh.tokenAuth());
        assertEquals("https://api.github.com/applications/abc/grant", gh.revocationEndpoint(), "GitHub revokes by its own API, naming the app");
        assertEquals(ConnectionProvider.GITHUB, gh.revocationStyle());
        ConnectionProvider g = p.get("gmail");
        assertEquals("offline", g.authorizeParams().get("access_type"));
        assertEquals("consent", g.authorizeParams().get("prompt"));
        assertEquals("https://oauth2.googleapis.com/revoke", g.revocationEndpoint());
        assertEquals(ConnectionProvider.RFC7009, g.revocationStyle());
        assertTrue(g.scopes().contains("openid") && g.scopes().contains("https://www.googleapis.com/auth/gmail.readonly"));
        assertFalse(g.rotatingRefreshTokens(), "Google's refresh tokens stay valid");
        assertEquals("secret", p.get("rez").type());
        assertNull(p.get("rez").tokenEndpoint());
    }

    @Test
    void anIssuerIsDiscoveredAndMustNameItself() {
        try (FakeIdp idp = new FakeIdp()) {
            ConnectionProvider p = parse("{\"svc\": {\"issuer\": \"" + idp.url + "\", \"client_id\": \"c\"}}").get("svc");
            assertEquals(idp.url + "/token", p.tokenEndpoint());
            assertEquals(idp.url + "/userinfo", p.userinfoEndpoint());
            assertEquals("none", p.tokenAuth());
            String e = error("{\"svc\": {\"issuer\": \"" + idp.url + "/\", \"client_id\": \"c\"}}");
            assertTrue(e.startsWith("mcp-servers.json: connections.svc.issuer: "), e);
        }
    }

    @Test
    void everyMistakeIsOneLineNamingTheKey() {
        assertEquals("mcp-servers.json: connections.Bad: a connection name is 1 to 32 of a-z, 0-9 and '-'", error("{\"Bad\": {}}"));
        assertEquals("mcp-servers.json: connections.x.client_secret: the environment variable NOPE is not set",
                error("{\"x\": {\"preset\": \"github\", \"client_id\": \"a\", \"client_secret\": \"${NOPE}\"}}"));
        assertEquals("mcp-servers.json: connections.x.client_id: missing", error("{\"x\": {\"preset\": \"github\"}}"));
        assertEquals("mcp-servers.json: connections.x.revocation_style: expected \"rfc7009\" or \"github\", not 'gitlab'",
                error("{\"x\": {\"preset\": \"github\", \"client_id\": \"a\", \"revocation_style\": \"gitlab\"}}"));
        assertEquals("mcp-servers.json: connections.x.preset: expected \"google\", \"github\" or \"microsoft\", not 'gitlab'",
                error("{\"x\": {\"preset\": \"gitlab\", \"client_id\": \"a\"}}"));
        assertEquals("mcp-servers.json: connections.x.token_endpoint: missing (with \"authorization_endpoint\" both are needed)",
                error("{\"x\": {\"authorization_endpoint\": \"https://a.example/auth\", \"client_id\": \"a\"}}"));
        assertEquals("mcp-servers.json: connections.x.token_endpoint: 'http://a.example/token' must be https (http only for localhost, or with "
                + "\"allow_http\": true)", error("{\"x\": {\"authorization_endpoint\": \"https://a.example/auth\", \"token_endpoint\": "
                + "\"http://a.example/token\", \"client_id\": \"a\"}}"));
        assertEquals("mcp-servers.json: connections.x.authorize_params.state: set by the server itself; it cannot be configured",
                error("{\"x\": {\"preset\": \"google\", \"client_id\": \"a\", \"client_secret\": \"b\", \"authorize_params\": {\"state\": \"1\"}}}"));
        assertTrue(error("{\"x\": {\"preset\": \"google\", \"client_id\": \"a\", \"colour\": \"b\"}}")
                .startsWith("mcp-servers.json: connections.x.colour: unknown key; expected one of "));
        assertEquals("mcp-servers.json: connections.x.type: expected \"oauth\" or \"secret\", not 'magic'", error("{\"x\": {\"type\": \"magic\"}}"));
        assertTrue(parse("{}").isEmpty());
        assertTrue(ConnectionProviders.parse("f", "{\"servers\": {}}", ENV::get, null).isEmpty(), "no connections key: none");
    }

    @Test
    void anMcpServerConnectionNamesAnHttpServerOfTheFileAndIsResolvedLater() {
        String servers = "{\"up\": {\"url\": \"http://127.0.0.1:9/mcp\"}, \"local\": {\"command\": \"node\"}}";
        java.util.function.Function<String, ConnectionProviders> load = c -> ConnectionProviders.parse("mcp-servers.json",
                "{\"servers\": " + servers + ", \"connections\": " + c + "}", ENV::get, new ConnectionProviders.Discovery(Duration.ofSeconds(5)));
        ConnectionProviders p = load.apply("{\"up\": {\"mcp_server\": \"up\"}}");
        assertEquals("http://127.0.0.1:9/mcp", p.mcpServerUrl("up"), "nothing is fetched at start: the upstream may be down");
        assertEquals("http://127.0.0.1:9/mcp", p.get("up").authorizeParams().get("resource"));
        assertEquals("mcp-servers.json: connections.x.mcp_server: 'nope' is not a server of \"servers\"",
                assertThrows(ConfigException.class, () -> load.apply("{\"x\": {\"mcp_server\": \"nope\"}}")).getMessage());
        assertEquals("mcp-servers.json: connections.x.mcp_server: 'local' is a stdio server; only an HTTP server (\"url\") has OAuth of its own",
                assertThrows(ConfigException.class, () -> load.apply("{\"x\": {\"mcp_server\": \"local\"}}")).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> load.apply("{\"x\": {\"mcp_server\": \"up\", \"client_id\": \"a\"}}")).getMessage()
                .startsWith("mcp-servers.json: connections.x.client_id: unknown key"));
    }
}
