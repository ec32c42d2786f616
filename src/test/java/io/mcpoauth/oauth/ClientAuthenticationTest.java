package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static io.mcpoauth.oauth.RevocationTest.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client authentication (rows 37, 38, 48) over real HTTP, through {@code /revoke}. */
class ClientAuthenticationTest {
    @TempDir
    static Path dir;
    static TestServer s;
    static JsonNode basicClient;
    static JsonNode postClient;
    static JsonNode publicClient;

    @BeforeAll
    static void start() {
        s = TestServer.start(dir);
        basicClient = RegistrationTest.registerConfidential(s, "client_secret_basic");
        postClient = RegistrationTest.registerConfidential(s, "client_secret_post");
        publicClient = RegistrationTest.registerPublic(s);
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static String id(JsonNode c) {
        return c.get("client_id").asText();
    }

    static String secret(JsonNode c) {
        return c.get("client_secret").asText();
    }

    private static HttpResponse<String> revoke(Map<String, String> form, String authorization) {
        return authorization == null ? s.postForm("/revoke", form) : s.postForm("/revoke", form, "Authorization", authorization);
    }

    private static void assertBasicChallenge(HttpResponse<String> r) {
        assertEquals("Basic realm=\"mcp-oauth-server\"", r.headers().firstValue("WWW-Authenticate").orElse(""), r.body());
    }

    @Test
    void eachRegisteredMethodWorks() {
        assertEquals(200, revoke(TestServer.map("token", "t"), basic(id(basicClient), secret(basicClient))).statusCode());
        assertEquals(200, revoke(TestServer.map("token", "t", "client_id", id(postClient), "client_secret", secret(postClient)), null)
                .statusCode());
        assertEquals(200, revoke(TestServer.map("token", "t", "client_id", id(publicClient)), null).statusCode());
    }

    @Test
    void wrongSecretWithBasicIs401WithABasicChallenge() {
        HttpResponse<String> r = revoke(TestServer.map("token", "t"), basic(id(basicClient), "mcpcs_wrong"));
        assertError(r, 401, "invalid_client");
        assertBasicChallenge(r);
        HttpResponse<String> unknown = revoke(TestServer.map("token", "t"), basic("mcpc_unknown", "x"));
        assertError(unknown, 401, "invalid_client");
        assertBasicChallenge(unknown);
    }

    @Test
    void wrongSecretInTheFormIs401WithoutAChallenge() {
        HttpResponse<String> r = revoke(TestServer.map("token", "t", "client_id", id(postClient), "client_secret", "wrong"), null);
        assertError(r, 401, "invalid_client");
        assertTrue(r.headers().firstValue("WWW-Authenticate").isEmpty());
    }

    @Test
    void basicHeaderAndBodySecretTogetherIs400() {
        HttpResponse<String> r = revoke(TestServer.map("token", "t", "client_secret", secret(basicClient)),
                basic(id(basicClient), secret(basicClient)));
        assertError(r, 400, "invalid_request");
    }

    @Test
    void aMethodOtherThanTheRegisteredOneIs401() {
        // registered basic, sends post
        assertError(revoke(TestServer.map("token", "t", "client_id", id(basicClient), "client_secret", secret(basicClient)), null),
                401, "invalid_client");
        // registered post, sends basic
        HttpResponse<String> r = revoke(TestServer.map("token", "t"), basic(id(postClient), secret(postClient)));
        assertError(r, 401, "invalid_client");
        assertBasicChallenge(r);
        // confidential client sending no secret at all
        assertError(revoke(TestServer.map("token", "t", "client_id", id(basicClient)), null), 401, "invalid_client");
        // public client sending a secret
        assertError(revoke(TestServer.map("token", "t", "client_id", id(publicClient), "client_secret", "x"), null), 401, "invalid_client");
    }

    @Test
    void malformedAuthorizationHeadersAre401NeverA500() {
        for (String h : List.of("Basic !!!not-base64!!!", "Basic " + Base64.getEncoder().encodeToString("nocolon".getBytes()),
                "Basic " + Base64.getEncoder().encodeToString(":secret".getBytes()),
                "Basic " + Base64.getEncoder().encodeToString("%zz:%zz".getBytes()), "Basic", "Basic ", "Digest abc",
                "Basic " + "A".repeat(10_000))) {
            HttpResponse<String> r = revoke(TestServer.map("token", "t"), h);
            assertTrue(r.statusCode() == 401 || r.statusCode() == 400, h + " -> " + r.statusCode() + " " + r.body());
            assertFalse(r.body().contains("Exception"), r.body());
        }
        assertError(revoke(TestServer.map("token", "t"), "Basic !!!not-base64!!!"), 401, "invalid_client");
    }

    @Test
    void aClientIdInTheFormThatDiffersFromBasicIs400() {
        assertError(revoke(TestServer.map("token", "t", "client_id", id(postClient)), basic(id(basicClient), secret(basicClient))),
                400, "invalid_request");
    }

    /** {@code receiver.equals(argument)}: the receiver is a name, field or method chain; the argument has at most one call. */
    private static final java.util.regex.Pattern EQUALS =
            java.util.regex.Pattern.compile("([\\w.\\[\\]()]+)\\.equals\\(([^()]*(?:\\([^()]*\\))?[^()]*)\\)");

    @Test
    void secretsAreComparedInConstantTime() throws IOException {
        // Constant-time comparison is checked in the code. Secrets.matches and constantTimeEquals compare hashes with MessageDigest.isEqual,
        // and the endpoint code compares secrets and tokens only through them, never with equals().
        String secrets = Files.readString(Path.of("src/main/java/io/mcpoauth/core/Secrets.java"));
        assertTrue(secrets.contains("MessageDigest.isEqual(a, b)"), "Secrets.matches uses MessageDigest.isEqual");
        for (String file : List.of("ClientEndpoints", "Registration", "Revocation", "Introspection", "ClientAuthentication")) {
            String src = Files.readString(Path.of("src/main/java/io/mcpoauth/oauth/" + file + ".java"));
            java.util.regex.Matcher m = EQUALS.matcher(src);
            while (m.find()) {
                String operands = (m.group(1) + " " + m.group(2)).replaceAll("\"[^\"]*\"", "").toLowerCase(); // literals are not secrets
                boolean secret = operands.matches(".*(secret|hash|bearer|admin|password).*") && !operands.contains("idsecret[0]");
                assertFalse(secret, file + ": " + m.group());
            }
        }
    }
}
