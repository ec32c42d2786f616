package io.mcpoauth.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whose X-Forwarded-For counts for rate limits (and audit lines): only a trusted proxy's; URLs never come from forwarded headers. */
class TrustedProxiesTest {
    private static final String CLIENT = "{\"client_name\":\"t\",\"redirect_uris\":[\"http://127.0.0.1:9999/cb\"],"
            + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],\"token_endpoint_auth_method\":\"none\"}";

    @TempDir
    Path dir;

    private static int register(TestServer s, String forwardedFor) {
        HttpResponse<String> r = forwardedFor == null ? s.postJson("/register", CLIENT)
                : s.postJson("/register", CLIENT, "X-Forwarded-For", forwardedFor);
        return r.statusCode();
    }

    @Test
    void withoutTrustedProxiesTheHeaderIsIgnored() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("REGISTRATION_RATE_LIMIT", "2"))) {
            assertEquals(201, register(s, "203.0.113.1"));
            assertEquals(201, register(s, "203.0.113.2"));
            assertEquals(429, register(s, "203.0.113.3"), "every request counts against the peer, 127.0.0.1");
        }
    }

    @Test
    void aTrustedPeersRightMostUntrustedHopIsTheClient() throws IOException {
        Path audit = dir.resolve("audit.log");
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("REGISTRATION_RATE_LIMIT", "2",
                "TRUSTED_PROXIES", "127.0.0.1/32, ::1, 10.0.0.0/8", "AUDIT_LOG", audit.toString()))) {
            assertEquals(201, register(s, "203.0.113.1"));
            assertEquals(201, register(s, "203.0.113.1"));
            assertEquals(429, register(s, "203.0.113.1"), "one client behind the proxy is limited");
            assertEquals(201, register(s, "198.51.100.9"), "another client has its own budget");
            assertEquals(429, register(s, "192.0.2.77, 203.0.113.1"), "a hop the client wrote itself (left) does not help");
            assertEquals(429, register(s, "203.0.113.1, 10.1.2.3"), "trusted hops (our proxies) are skipped");
            assertEquals(201, register(s, null), "no header: the proxy itself");
        }
        List<String> ips = Files.readAllLines(audit).stream().map(l -> {
            try {
                JsonNode n = Json.MAPPER.readTree(l);
                return n.get("event").asText() + " " + n.path("ip").asText();
            } catch (IOException e) {
                throw new AssertionError(l);
            }
        }).toList();
        assertEquals(List.of("client_registered 203.0.113.1", "client_registered 203.0.113.1", "client_registered 198.51.100.9",
                "client_registered 127.0.0.1"), ips);
    }

    @Test
    void urlsNeverComeFromForwardedHeaders() {
        try (TestServer s = TestServer.start(dir.resolve("data"), Map.of("TRUSTED_PROXIES", "127.0.0.1"))) {
            HttpResponse<String> r = s.get("/.well-known/oauth-authorization-server", "X-Forwarded-Host", "evil.example",
                    "X-Forwarded-Proto", "https", "X-Forwarded-Port", "443", "Forwarded", "host=evil.example;proto=https",
                    "X-Forwarded-For", "203.0.113.1");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode md = TestServer.json(r);
            assertEquals(s.url, md.get("issuer").asText());
            assertTrue(md.get("token_endpoint").asText().startsWith(s.url + "/"), md.toString());
            assertTrue(!r.body().contains("evil.example"), r.body());
        }
    }
}
