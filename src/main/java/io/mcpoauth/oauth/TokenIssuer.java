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
        Instant exp = now.plus(s.settings().accessTokenTtl);
        String token = s.accessTokens().issue(new AccessToken(grant.clientId(), grant.userId(), scopes, grant.resource(), grant.grantId(), exp), now);
        if (token == null) throw OAuthError.temporarilyUnavailable("The server is at its limit of live access tokens; try again shortly.");
        return new TokenResponse(token, s.settings().accessTokenTtl.toSeconds(), refreshToken, scopes, grant);
    }
}
