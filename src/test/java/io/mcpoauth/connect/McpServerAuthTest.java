package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery and registration against a real OAuth-protected MCP server (this server, on its own port). */
class McpServerAuthTest {
    @TempDir
    static Path dir;
    static TestServer upstream;
    static final McpServerAuth auth = new McpServerAuth(Duration.ofSeconds(5));

    @BeforeAll
    static void start() {
        upstream = TestServer.start(dir.resolve("up"));
    }

    @AfterAll
    static void stop() {
        if (upstream != null) upstream.close();
    }

    @Test
    void theAuthorizationServerIsFoundFromTheUpstreamsOwn401() {
        McpServerAuth.Found f = auth.discover(upstream.url + "/mcp");
        assertEquals(upstream.url + "/mcp", f.resource());
        assertEquals(upstream.url, f.issuer());
        assertEquals(upstream.url + "/authorize", f.authorizationEndpoint());
        assertEquals(upstream.url + "/token", f.tokenEndpoint());
        assertEquals(upstream.url + "/revoke", f.revocationEndpoint());
        assertEquals(upstream.url + "/register", f.registrationEndpoint());
        assertTrue(f.issParameter(), "the upstream promises iss on its answers (RFC 9207)");
    }

    @Test
    void dynamicClientRegistrationGivesAPublicClientWithOurCallback() {
        McpServerAuth.Found f = auth.discover(upstream.url + "/mcp");
        String callback = "http://127.0.0.1:9/connect/callback";
        McpServerAuth.Registration r = auth.register(f, callback, "http://127.0.0.1:9/connect/client-metadata/up.json");
        assertEquals(upstream.url, r.issuer());
        assertEquals("none", r.tokenAuth());
        assertNull(r.clientSecret());
        var client = upstream.server.clients.get(r.clientId());
        assertNotNull(client, "registered at the upstream");
        assertEquals(List.of(callback), client.redirectUris());
    }

    @Test
    void aClientIdMetadataDocumentIsUsedWhenSupportedAndOurUrlIsHttps() {
        McpServerAuth.Found f = auth.discover(upstream.url + "/mcp");
        McpServerAuth.Found cimd = new McpServerAuth.Found(f.resource(), f.issuer(), f.authorizationEndpoint(), f.tokenEndpoint(), f.revocationEndpoint(),
                f.registrationEndpoint(), true, f.issParameter(), f.scopes());
        String url = "https://gw.example.com/connect/client-metadata/up.json";
        assertEquals(url, auth.register(cimd, "https://gw.example.com/connect/callback", url).clientId());
        var doc = McpServerAuth.clientMetadataDocument(url, "https://gw.example.com/connect/callback");
        assertEquals(url, doc.path("client_id").asText());
        assertEquals("none", doc.path("token_endpoint_auth_method").asText());
    }

    @Test
    void anUpstreamThatIsDownOrDoesNotAskForOAuthIsAClearError() {
        McpServerAuth.Failed down = assertThrows(McpServerAuth.Failed.class, () -> auth.discover("http://127.0.0.1:" + TestServer.freePort() + "/mcp"));
        assertTrue(down.getMessage().contains("cannot be reached"), down.getMessage());
        McpServerAuth.Failed open = assertThrows(McpServerAuth.Failed.class, () -> auth.discover(upstream.url + "/healthz"));
        assertTrue(open.getMessage().contains("does not ask for OAuth"), open.getMessage());
    }
}
