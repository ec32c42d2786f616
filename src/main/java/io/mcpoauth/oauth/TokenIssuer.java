package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.RefreshFamily;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Mints access tokens for a grant and shapes the token response (RFC 6749 §5.1), shared by both grants. */
public final class TokenIssuer {
    private final OAuthServices s;

    public TokenIssuer(OAuthServices services) {
        this.s = services;
    }

    /** The JSON body of a successful token response; {@code refreshToken} may be null for clients without that grant. */
    public Map<String, Object> issue(RefreshFamily grant, Set<String> scopes, String refreshToken, Instant now) {
        Instant exp = now.plus(s.settings().accessTokenTtl);
        String token = s.accessTokens().issue(new AccessToken(grant.clientId(), grant.userId(), scopes, grant.resource(), grant.familyId(), exp), now);
        if (token == null) throw OAuthError.temporarilyUnavailable("The server is at its limit of live access tokens; try again shortly.");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", token);
        body.put("token_type", "Bearer");
        body.put("expires_in", s.settings().accessTokenTtl.toSeconds());
        if (refreshToken != null) body.put("refresh_token", refreshToken);
        body.put("scope", Scopes.format(scopes));
        s.events().tokensIssued(grant.rotations() == 0 ? "authorization_code" : "refresh_token", grant.userId(), grant.clientId(),
                grant.familyId(), scopes);
        return body;
    }
}
