package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.oauth.IdentityJwt;
import io.mcpoauth.oauth.IdentityJwtTest;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.postgres.PgStores;
import io.mcpoauth.store.postgres.PgTestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Where the identity-assertion keys come from (the data directory, the database) and how the JWK Set is served. */
class IdentityJwtKeysTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @TempDir
    Path dir;

    final AuthContext alice = new AuthContext("local:alice", "alice", "local", "mcpc_c", Set.of("mcp"), "g");

    @Test
    void theJwkSetIsServedPubliclyWithCachingAndCorsAndIsNotAdvertisedAsOurTokenKeys() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            HttpResponse<String> r = t.get(IdentityJwt.JWKS_PATH, "Origin", "https://inspector.example");
            assertEquals(200, r.statusCode());
            assertEquals("application/jwk-set+json", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            assertEquals("public, max-age=300", r.headers().firstValue("Cache-Control").orElse(""));
            assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
            JsonNode keys = TestServer.json(r).get("keys");
            assertTrue(keys.size() >= 1);
            assertEquals(t.server.identityJwt.currentKid(), keys.get(0).get("kid").asText());
            assertNull(keys.get(0).get("d"), "no private member is published");
            assertNull(keys.get(0).get("p"));
            String token = t.server.identityJwt.assertion(alice, "mcp-server:files");
            assertTrue(IdentityJwtTest.verifies(token, r.body().getBytes(StandardCharsets.UTF_8)));
            assertEquals(t.url, IdentityJwtTest.decode(token.split("\\.")[1]).get("iss").asText());

            HttpResponse<String> preflight = t.send(t.request(IdentityJwt.JWKS_PATH).method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "https://inspector.example").header("Access-Control-Request-Method", "GET"));
            assertEquals(204, preflight.statusCode());
            JsonNode metadata = TestServer.json(t.get("/.well-known/oauth-authorization-server"));
            assertNull(metadata.get("jwks_uri"), "our tokens for clients are opaque: no jwks_uri in the authorization server metadata");
        }
    }

    @Test
    void withTheFileStoreTheSecretIsAPrivateFileInTheDataDirectoryAndSurvivesARestart() throws Exception {
        String kid;
        try (TestServer t = TestServer.start(dir)) {
            kid = t.server.identityJwt.currentKid();
        }
        Path key = dir.resolve(IdentityJwt.KEY_NAME + ".key");
        assertTrue(Files.isRegularFile(key));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        try (TestServer t = TestServer.start(dir)) {
            assertEquals(kid, t.server.identityJwt.currentKid(), "the same signing key after a restart");
        }
        try (Stores other = FileStores.open(Files.createDirectory(dir.resolve("elsewhere")), 100)) {
            IdentityJwt elsewhere = new IdentityJwt("http://x", other.sharedKey(IdentityJwt.KEY_NAME), null, Clock.systemUTC(),
                    Duration.ofMinutes(5), Duration.ofDays(30), Duration.ofDays(1));
            assertFalse(kid.equals(elsewhere.currentKid()), "another data directory, another key");
        }
    }

    @Test
    void twoInstancesOnOneDatabasePublishAndSignWithTheSameKeys() throws Exception {
        String url = PG.newSchema();
        try (Stores a = PgStores.open(url, null, 2, 100); Stores b = PgStores.open(url, null, 2, 100)) {
            IdentityJwt one = new IdentityJwt("https://auth.example", a.sharedKey(IdentityJwt.KEY_NAME), a.users(), Clock.systemUTC(),
                    Duration.ofMinutes(5), Duration.ofDays(30), Duration.ofDays(1));
            IdentityJwt two = new IdentityJwt("https://auth.example", b.sharedKey(IdentityJwt.KEY_NAME), b.users(), Clock.systemUTC(),
                    Duration.ofMinutes(5), Duration.ofDays(30), Duration.ofDays(1));
            assertEquals(new String(one.jwksDocument(), StandardCharsets.UTF_8), new String(two.jwksDocument(), StandardCharsets.UTF_8));
            assertTrue(IdentityJwtTest.verifies(one.assertion(alice, "https://up.example/mcp"), two.jwksDocument()),
                    "what one instance signs verifies with the other's JWK Set");
        }
    }
}
