package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * One grant: the refresh-token family started by one authorization code, as kept in {@code refresh_tokens.json}.
 * The family id is also the grant id that access tokens point at, so revoking the family revokes everything the
 * grant produced. Only hashes are stored: {@code tokenHash} is the current refresh token; {@code previousHash} the one
 * it replaced, still accepted once, for a short while after the rotation, until the current one is first used (a
 * client whose response was lost can retry: {@code graceUsed} records that it did); {@code retired} holds shortened
 * hashes of older tokens, whose reuse revokes the family.
 */
public record RefreshFamily(
        String familyId,
        String clientId,
        String userId,
        String scope,
        String resource,
        String tokenHash,
        String previousHash,
        List<String> retired,
        Instant createdAt,
        Instant rotatedAt,
        Instant expiresAt,
        long rotations,
        boolean graceUsed) {

    public RefreshFamily {
        // Shared by many families (a client has one per user, a user one per client): one String each in memory.
        clientId = intern(clientId);
        userId = intern(userId);
        scope = intern(scope);
        resource = intern(resource);
        retired = retired == null ? List.of() : CompactStrings.copyOf(retired);
    }

    /** A family whose previous token has not been retried. */
    public RefreshFamily(String familyId, String clientId, String userId, String scope, String resource, String tokenHash,
                         String previousHash, List<String> retired, Instant createdAt, Instant rotatedAt, Instant expiresAt, long rotations) {
        this(familyId, clientId, userId, scope, resource, tokenHash, previousHash, retired, createdAt, rotatedAt, expiresAt, rotations, false);
    }

    private static String intern(String s) {
        return s == null ? null : s.intern();
    }

    public boolean expired(Instant now) {
        return !expiresAt.isAfter(now);
    }
}
