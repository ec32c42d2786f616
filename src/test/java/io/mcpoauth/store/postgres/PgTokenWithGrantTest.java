package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.memory.MemoryStores;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An access token and its grant read in one query (every /mcp call needs both), as fresh as two reads would be. */
class PgTokenWithGrantTest {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    private static final Instant T0 = Instant.parse("2026-06-01T10:00:00Z");

    private static AccessToken token(RefreshFamily f, Instant expires) {
        return new AccessToken(f.clientId(), f.userId(), Set.of("mcp"), f.resource(), f.familyId(), expires);
    }

    @Test
    void theTokenComesWithItsGrantAsTheDatabaseHoldsItNow() {
        String url = PG.newSchema();
        try (Stores a = PgStores.open(url, null, 2, 100); Stores b = PgStores.open(url, null, 2, 100)) {
            RefreshTokens onA = new RefreshTokens(a.grants(), Duration.ofHours(1));
            RefreshTokens onB = new RefreshTokens(b.grants(), Duration.ofHours(1));
            RefreshTokens.Issued issued = onA.create("client-1", "alice", "mcp", "https://mcp.example/mcp", true, T0);
            String hash = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
            a.accessTokens().put(hash, token(issued.family(), T0.plusSeconds(3600)), T0);

            AccessTokenStore.WithGrant found = b.accessTokens().getWithGrant(hash, T0.plusSeconds(1), b.grants());
            assertNotNull(found);
            assertEquals("alice", found.token().userId());
            assertEquals(Set.of("mcp"), found.token().scopes());
            assertEquals(issued.family(), found.grant());

            // rotated on the other instance: the grant read with the token is the new one
            onB.rotate(issued.refreshToken(), "client-1", T0.plusSeconds(2), f -> {});
            assertEquals(1, a.accessTokens().getWithGrant(hash, T0.plusSeconds(3), a.grants()).grant().rotations());

            // revoked: the token row may still be there for a moment, its grant is not
            b.grants().remove(issued.family().familyId());
            found = a.accessTokens().getWithGrant(hash, T0.plusSeconds(4), a.grants());
            assertNotNull(found);
            assertNull(found.grant(), "a revoked grant comes back as none");

            assertNull(a.accessTokens().getWithGrant(hash, T0.plusSeconds(3600), a.grants()), "an expired token is not live");
            assertNull(a.accessTokens().getWithGrant(Secrets.hash("unknown"), T0, a.grants()));
        }
    }

    @Test
    void aStoreThatCannotJoinReadsTheGrantFromTheGrantStore() {
        MemoryStores stores = new MemoryStores();
        RefreshTokens tokens = new RefreshTokens(stores.grants(), Duration.ofHours(1));
        RefreshTokens.Issued issued = tokens.create("client-1", "alice", "mcp", null, true, T0);
        String hash = Secrets.hash(Secrets.mint(Secrets.ACCESS_TOKEN));
        stores.accessTokens().put(hash, token(issued.family(), T0.plusSeconds(3600)), T0);
        assertEquals(issued.family(), stores.accessTokens().getWithGrant(hash, T0, stores.grants()).grant());
        stores.grants().remove(issued.family().familyId());
        assertNull(stores.accessTokens().getWithGrant(hash, T0, stores.grants()).grant());
    }
}
