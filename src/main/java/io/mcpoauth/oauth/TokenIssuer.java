package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.RefreshFamily;
import java.time.Instant;
import java.util.Set;

/**
 * Mints access tokens: whatever the grant, an access token is for a client, a user, a resource and the grant that
 * produced it (revoking the grant ends it). Knows nothing of grant types or refresh-token families; the grant
 * handlers decide what to mint and whether a refresh token comes with it.
 */
public final class TokenIssuer {
    /** What an access token is issued for; {@code grantId} is the id revoking the grant goes by (a refresh-token family id). */
    public record Grant(String clientId, String userId, String resource, String grantId) {
        /** The grant a refresh-token family stands for. */
        public static Grant of(RefreshFamily family) {
            return new Grant(family.clientId(), family.userId(), family.resource(), family.familyId());
        }
    }

    private final OAuthServices s;

    public TokenIssuer(OAuthServices services) {
        this.s = services;
    }

    /** A new access token for {@code grant} with {@code scopes}; {@code refreshToken} (may be null) is passed through. */
    public TokenResponse issue(Grant grant, Set<String> scopes, String refreshToken, Instant now) {
        String token = s.accessTokens().issue(record(grant, scopes, now), now);
        if (token == null) throw noRoom();
        return issued(grant, scopes, refreshToken, token);
    }

    /** The record of an access token for {@code grant} with {@code scopes}, issued {@code now}. */
    public AccessToken record(Grant grant, Set<String> scopes, Instant now) {
        return new AccessToken(grant.clientId(), grant.userId(), scopes, grant.resource(), grant.grantId(), now.plus(s.settings().accessTokenTtl));
    }

    /** The response for an access token already stored (with the rotation that issued it). */
    public TokenResponse issued(Grant grant, Set<String> scopes, String refreshToken, String accessToken) {
        return new TokenResponse(accessToken, s.settings().accessTokenTtl.toSeconds(), refreshToken, scopes, grant);
    }

    /** The answer when the store of access tokens is full. */
    public static OAuthError noRoom() {
        return OAuthError.temporarilyUnavailable("The server is at its limit of live access tokens; try again shortly.");
    }
}
