package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens.Outcome;
import io.mcpoauth.oauth.RefreshTokens.Rotation;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.memory.MemoryAccessTokenStore;
import io.mcpoauth.store.memory.MemoryStores;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A rotation that issues its access token: stored with it, or, when the token store is full, rotated without one (NO_ROOM). */
class RefreshWithAccessTokenTest {
    private static final Instant T0 = Instant.parse("2026-06-01T10:00:00Z");

    private static AccessToken token(RefreshFamily f, Instant at) {
        return new AccessToken(f.clientId(), f.userId(), Set.of("mcp"), f.resource(), f.familyId(), at.plus(Duration.ofHours(1)));
    }

    @Test
    void theAccessTokenIsStoredWithTheRotation() {
        MemoryStores stores = new MemoryStores();
        RefreshTokens tokens = new RefreshTokens(stores.grants(), Duration.ofHours(1));
        String t0 = tokens.create("c", "alice", "mcp", null, true, T0).refreshToken();
        String hash = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        Rotation r = tokens.rotate(t0, "c", T0, f -> {}, new RefreshTokens.Access(stores.accessTokens(), hash, f -> token(f, T0)));
        assertEquals(Outcome.ROTATED, r.outcome());
        assertEquals(r.family().familyId(), stores.accessTokens().get(hash, T0).grantId());
    }

    @Test
    void aFullTokenStoreRotatesWithoutAnAccessTokenAndTheRetryStillWorks() {
        MemoryStores stores = new MemoryStores();
        MemoryAccessTokenStore full = new MemoryAccessTokenStore(1, 5);
        assertTrue(full.put("someone-else", new AccessToken("x", "bob", Set.of("mcp"), null, "g", T0.plusSeconds(3600)), T0));
        RefreshTokens tokens = new RefreshTokens(stores.grants(), Duration.ofHours(1));
        String t0 = tokens.create("c", "alice", "mcp", null, true, T0).refreshToken();
        String hash = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        Rotation r = tokens.rotate(t0, "c", T0, f -> {}, new RefreshTokens.Access(full, hash, f -> token(f, T0)));
        assertEquals(Outcome.NO_ROOM, r.outcome());
        assertNull(full.get(hash, T0));
        // the client saw an error, not the successor: its retry with the same token is the lost-response grace
        String hash2 = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        Rotation retry = tokens.rotate(t0, "c", T0.plusSeconds(1), f -> {}, new RefreshTokens.Access(stores.accessTokens(), hash2, f -> token(f, T0)));
        assertEquals(Outcome.ROTATED, retry.outcome());
        assertNotNull(stores.accessTokens().get(hash2, T0));
    }
}
