package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.file.EncryptionKeys;
import io.mcpoauth.store.file.FileStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stored upstream tokens: the key's origin, a wrong or missing key, tampered and swapped ciphertexts. */
class IdpEncryptionTest {
    @TempDir
    Path dir;

    private static String newKey() {
        return Base64.getEncoder().encodeToString(Secrets.randomBytes(32));
    }

    private static IdpTokenRecord withCiphertext(IdpTokenRecord r, String ct) {
        return new IdpTokenRecord(r.userId(), r.provider(), r.keyId(), ct, r.scopes(), r.expiresAt(), r.refreshable(), r.obtainedAt(), r.refreshedAt());
    }

    /** The client's access token after a restart: refresh with its refresh token (no new sign-in). */
    private static String refreshAfterRestart(IdpFixture f, OAuthClientSim c, String refreshToken) {
        OAuthClientSim again = new OAuthClientSim(f.s);
        again.clientId = c.clientId;
        var r = again.refresh(refreshToken);
        assertEquals(200, r.statusCode(), r.body());
        return TestServer.json(r).get("access_token").asText();
    }

    @Test
    void withoutEncryptionKeyAKeyIsGeneratedOnceAt0600AndKeepsWorkingAfterARestart() throws Exception {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            Path keyFile = dir.resolve(EncryptionKeys.KEY_FILE);
            assertTrue(Files.exists(keyFile));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            String key = Files.readString(keyFile);
            assertEquals(32, Base64.getDecoder().decode(key.strip()).length);
            OAuthClientSim c = f.client();
            JsonNode t = f.connect(c);
            f.restart();
            assertEquals(key, Files.readString(keyFile), "the same key is used again, never a new one");
            String at = refreshAfterRestart(f, c, t.get("refresh_token").asText());
            JsonNode r = f.tool(at, "upstream_profile");
            assertFalse(r.path("isError").asBoolean(), r.toString());
            assertEquals("alice-sub", IdpFixture.toolJson(r).path("profile").path("sub").asText());
        }
    }

    @Test
    void withEncryptionKeyNoKeyFileIsWritten() {
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of("ENCRYPTION_KEY", newKey())).start()) {
            f.connect(f.client());
            assertFalse(Files.exists(dir.resolve(EncryptionKeys.KEY_FILE)));
        }
    }

    @Test
    void keyMissingWhileCiphertextsExistRefusesToStart() throws Exception {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            f.connect(f.client());
            f.s.close();
            Files.delete(dir.resolve(EncryptionKeys.KEY_FILE));
            ConfigException e = assertThrows(ConfigException.class, () -> TestServer.start(dir, f.env));
            assertTrue(e.getMessage().startsWith("ENCRYPTION_KEY is not set and "), e.getMessage());
            assertTrue(e.getMessage().contains("holds 1 encrypted upstream token"), e.getMessage());
            assertTrue(e.getMessage().contains("Refusing to start"), e.getMessage());
            assertTrue(e.getMessage().contains(io.mcpoauth.store.file.FileStores.IDP_TOKENS + ".prev"), "says how to give them up: " + e.getMessage());
            assertFalse(Files.exists(dir.resolve(EncryptionKeys.KEY_FILE)), "never silently a new key");
            f.s = null;
        }
    }

    @Test
    void aWrongKeyRefusesToStartAndTheRightOneWorks() {
        String right = newKey();
        String wrong = newKey();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of("ENCRYPTION_KEY", right)).start()) {
            OAuthClientSim c = f.client();
            JsonNode t = f.connect(c);
            f.s.close();
            f.env.put("ENCRYPTION_KEY", wrong);
            ConfigException e = assertThrows(ConfigException.class, () -> TestServer.start(dir, f.env));
            assertTrue(e.getMessage().contains("is not the key that encrypted 1 stored upstream token"), e.getMessage());
            assertFalse(e.getMessage().contains(wrong) || e.getMessage().contains(right), "no key in the message");
            f.env.put("ENCRYPTION_KEY", right);
            f.s = TestServer.start(dir, f.env);
            String at = refreshAfterRestart(f, c, t.get("refresh_token").asText());
            assertFalse(f.tool(at, "upstream_profile").path("isError").asBoolean());
        }
    }

    @Test
    void aFlippedCiphertextByteMeansReauthenticationNotA500() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            JsonNode t = f.connect(c);
            IdpTokenRecord r = f.s.server.upstream.store.get("oidc:alice-sub");
            byte[] raw = Base64.getUrlDecoder().decode(r.ciphertext().substring(3));
            raw[raw.length / 2] ^= 0x04;
            f.s.server.upstream.store.put(withCiphertext(r, "v1." + Base64.getUrlEncoder().withoutPadding().encodeToString(raw)));

            String at = t.get("access_token").asText();
            for (int i = 0; i < 3; i++) {
                JsonNode res = f.tool(at, "upstream_profile");
                assertTrue(res.path("isError").asBoolean(), res.toString());
                assertTrue(IdpFixture.text(res).startsWith("Re-authentication required"), IdpFixture.text(res));
            }
            JsonNode status = TestServer.json(c.browserGet(f.s.url + "/api/me/upstream"));
            assertEquals("reauthentication_required", status.path("status").asText(), status.toString());
            assertNotNull(f.s.server.upstream.store.get("oidc:alice-sub"), "not deleted: only invalid_grant deletes");

            // a restart is not refused (same key), and the answer stays the same
            f.restart();
            String at2 = refreshAfterRestart(f, c, t.get("refresh_token").asText());
            assertTrue(IdpFixture.text(f.tool(at2, "upstream_profile")).startsWith("Re-authentication required"));

            // signing in again repairs it
            JsonNode fresh = f.connect(f.client());
            assertFalse(f.tool(fresh.get("access_token").asText(), "upstream_profile").path("isError").asBoolean());
        }
    }

    @Test
    void twoUsersSwappedCiphertextsDoNotDecrypt() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            f.idp.user = FakeIdp.User.of("alice-sub", "alice@example.com");
            String alice = f.connect(f.client()).get("access_token").asText();
            f.idp.user = FakeIdp.User.of("bob-sub", "bob@example.com");
            String bob = f.connect(f.client()).get("access_token").asText();
            assertEquals("bob-sub", IdpFixture.toolJson(f.tool(bob, "upstream_profile")).path("profile").path("sub").asText());

            IdpTokenStore store = f.s.server.upstream.store;
            IdpTokenRecord a = store.get("oidc:alice-sub");
            IdpTokenRecord b = store.get("oidc:bob-sub");
            store.put(withCiphertext(a, b.ciphertext()));
            store.put(withCiphertext(b, a.ciphertext()));
            for (String at : new String[] {alice, bob}) {
                JsonNode res = f.tool(at, "upstream_profile");
                assertTrue(res.path("isError").asBoolean(), res.toString());
                assertTrue(IdpFixture.text(res).startsWith("Re-authentication required"), IdpFixture.text(res));
            }
        }
    }
}
