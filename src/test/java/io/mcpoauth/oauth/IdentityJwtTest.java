package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestClock;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.memory.MemoryStores;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Identity assertions: signed so that a standard verifier accepts them with the published JWK Set, and rotated with a grace period. */
public class IdentityJwtTest {
    static final String ISSUER = "https://auth.example.com";
    static final Duration HOUR = Duration.ofHours(1);
    static final Duration GRACE = Duration.ofMinutes(10);
    /** Five minutes into a one-hour period (periods start on whole hours of the epoch). */
    static final Instant START = Instant.parse("2026-03-01T10:05:00Z");

    final byte[] secret = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    final TestClock clock = new TestClock(START);
    final AuthContext alice = new AuthContext("local:alice", "alice", "local", "mcpc_client1", Set.of("mcp", "notes"), "g1");

    IdentityJwt jwt(byte[] key, MemoryStores stores) {
        return new IdentityJwt(ISSUER, key, stores == null ? null : stores.users(), clock, Duration.ofMinutes(5), HOUR, GRACE);
    }

    @Test
    void anAssertionVerifiesWithTheJdkVerifierAndTheKeyOfThePublishedSetAndCarriesTheCaller() throws Exception {
        IdentityJwt signer = jwt(secret, null);
        String token = signer.assertion(alice, "https://tools.example.com/mcp");
        String[] parts = token.split("\\.");
        assertEquals(3, parts.length);
        JsonNode header = decode(parts[0]);
        assertEquals("RS256", header.get("alg").asText());
        assertEquals("JWT", header.get("typ").asText());
        assertEquals(signer.currentKid(), header.get("kid").asText());
        assertTrue(verifies(token, signer.jwksDocument()), "the signature verifies with the key of that kid in the JWK Set");

        JsonNode claims = decode(parts[1]);
        assertEquals(ISSUER, claims.get("iss").asText());
        assertEquals("https://tools.example.com/mcp", claims.get("aud").asText());
        assertEquals("local:alice", claims.get("sub").asText());
        assertEquals("alice", claims.get("username").asText());
        assertEquals("mcpc_client1", claims.get("client_id").asText());
        assertEquals(Set.of("mcp", "notes"), Set.of(claims.get("scope").asText().split(" ")));
        assertEquals(START.getEpochSecond(), claims.get("iat").asLong());
        assertEquals(START.getEpochSecond(), claims.get("nbf").asLong());
        assertEquals(START.getEpochSecond() + 300, claims.get("exp").asLong(), "five minutes at most");
        assertTrue(claims.get("jti").asText().length() >= 16);
        assertNull(claims.get("email"), "no e-mail known for a plain username");

        String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("local:alice", "local:bob")
                        .getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertFalse(verifies(tampered, signer.jwksDocument()), "a changed claim breaks the signature");
    }

    @Test
    void theEmailComesFromTheUserRecordOrAnEmailUsername() {
        MemoryStores stores = new MemoryStores();
        stores.users().put(new UserRecord("google:123", "Bob B", "google", "123", "bob@example.org", true, "Bob", null, START, START));
        IdentityJwt signer = jwt(secret, stores);
        AuthContext bob = new AuthContext("google:123", "Bob B", "google", "c", Set.of("mcp"), "g");
        assertEquals("bob@example.org", decode(signer.assertion(bob, "mcp-server:files").split("\\.")[1]).get("email").asText());
        AuthContext carol = new AuthContext("local:carol@example.net", "carol@example.net", "local", "c", Set.of("mcp"), "g");
        assertEquals("carol@example.net", decode(signer.assertion(carol, "mcp-server:files").split("\\.")[1]).get("email").asText());
    }

    @Test
    void anAssertionIsReusedWhileMoreThanHalfItsLifetimeRemainsAndEachAudienceGetsItsOwn() {
        IdentityJwt signer = jwt(secret, null);
        String first = signer.assertion(alice, "https://a.example/mcp");
        assertEquals(first, signer.assertion(alice, "https://a.example/mcp"));
        assertNotEquals(first, signer.assertion(alice, "https://b.example/mcp"), "another audience, another assertion");
        AuthContext otherClient = new AuthContext("local:alice", "alice", "local", "mcpc_other", Set.of("mcp"), "g2");
        assertNotEquals(first, signer.assertion(otherClient, "https://a.example/mcp"));
        clock.advance(Duration.ofSeconds(151));
        String later = signer.assertion(alice, "https://a.example/mcp");
        assertNotEquals(first, later, "less than half the lifetime left: a fresh one");
        assertEquals(clock.instant().getEpochSecond() + 300, decode(later.split("\\.")[1]).get("exp").asLong());
    }

    @Test
    void keysRotateEachPeriodAndThePreviousKeyStaysPublishedForTheGracePeriod() throws Exception {
        IdentityJwt signer = jwt(secret, null);
        assertEquals(2, kids(signer.jwksDocument()).size(), "five minutes after a rotation: current and previous");
        clock.advance(Duration.ofMinutes(20)); // 10:25
        String kid1 = signer.currentKid();
        assertEquals(List.of(kid1), kids(signer.jwksDocument()), "mid-period: the current key only");
        clock.advance(Duration.ofMinutes(30)); // 10:55, the next key published ahead
        String lastMinute = signer.assertion(alice, "https://a.example/mcp");
        List<String> ahead = kids(signer.jwksDocument());
        assertEquals(2, ahead.size());
        assertEquals(kid1, ahead.get(1));
        String kid2 = ahead.get(0);
        assertNotEquals(kid1, kid2);

        clock.advance(Duration.ofMinutes(6)); // 11:01, rotated
        assertEquals(kid2, signer.currentKid());
        String fresh = signer.assertion(alice, "https://b.example/mcp");
        assertEquals(kid2, decode(fresh.split("\\.")[0]).get("kid").asText());
        assertEquals(List.of(kid2, kid1), kids(signer.jwksDocument()));
        assertTrue(verifies(lastMinute, signer.jwksDocument()), "signed by the previous key, still verifiable in the grace period");
        assertTrue(verifies(fresh, signer.jwksDocument()));

        clock.advance(Duration.ofMinutes(10)); // 11:11, grace over
        assertEquals(List.of(kid2), kids(signer.jwksDocument()));
        assertFalse(verifies(lastMinute, signer.jwksDocument()), "the old key is no longer published");
    }

    @Test
    void theKeysDeriveFromTheSharedSecretAlone() {
        IdentityJwt a = jwt(secret, null);
        IdentityJwt b = jwt(secret.clone(), null);
        assertEquals(new String(a.jwksDocument(), StandardCharsets.UTF_8), new String(b.jwksDocument(), StandardCharsets.UTF_8));
        byte[] other = secret.clone();
        other[0] ^= 1;
        assertNotEquals(a.currentKid(), jwt(other, null).currentKid());
    }

    @Test
    void aLifetimeAboveFiveMinutesOrAGraceShorterThanItIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new IdentityJwt(ISSUER, secret, null, clock, Duration.ofMinutes(6), HOUR, GRACE));
        assertThrows(IllegalArgumentException.class, () -> new IdentityJwt(ISSUER, secret, null, clock, Duration.ofMinutes(5), HOUR, Duration.ofMinutes(1)));
        assertThrows(IllegalArgumentException.class, () -> new IdentityJwt(ISSUER, secret, null, clock, Duration.ofMinutes(5), HOUR, Duration.ofMinutes(30)));
        assertThrows(IllegalArgumentException.class, () -> jwt(secret, null).assertion(alice, " "));
    }

    // ---- a verifier written only against RFC 7515/7517, with the JDK ----

    public static JsonNode decode(String part) {
        try {
            return Json.MAPPER.readTree(Base64.getUrlDecoder().decode(part));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static List<String> kids(byte[] jwks) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode k : Json.MAPPER.readTree(jwks).get("keys")) out.add(k.get("kid").asText());
        return out;
    }

    /** True when {@code token}'s RS256 signature verifies with the key of its {@code kid} in {@code jwks}. */
    public static boolean verifies(String token, byte[] jwks) throws Exception {
        String[] parts = token.split("\\.");
        String kid = decode(parts[0]).get("kid").asText();
        for (JsonNode k : Json.MAPPER.readTree(jwks).get("keys")) {
            if (!k.get("kid").asText().equals(kid)) continue;
            assertEquals("RSA", k.get("kty").asText());
            assertEquals("sig", k.get("use").asText());
            assertEquals("RS256", k.get("alg").asText());
            BigInteger n = new BigInteger(1, Base64.getUrlDecoder().decode(k.get("n").asText()));
            BigInteger e = new BigInteger(1, Base64.getUrlDecoder().decode(k.get("e").asText()));
            assertEquals(2048, n.bitLength());
            PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(key);
            s.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            return s.verify(Base64.getUrlDecoder().decode(parts[2]));
        }
        return false;
    }
}
