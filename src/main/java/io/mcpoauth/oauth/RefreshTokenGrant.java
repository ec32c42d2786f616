package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import java.time.Instant;
import java.util.Set;

/**
 * {@code grant_type=refresh_token}: rotation on every use. The previous token keeps working until its successor is
 * first used; reuse after that revokes the whole grant. A narrower scope may be asked for, never a wider one. The
 * rotation rules themselves are the store's ({@link RefreshTokens#rotate}); this handler asks and answers.
 */
public final class RefreshTokenGrant implements GrantHandler {
    private final OAuthServices s;
    private final TokenIssuer issuer;

    public RefreshTokenGrant(OAuthServices services, TokenIssuer issuer) {
        this.s = services;
        this.issuer = issuer;
    }

    @Override
    public String grantType() {
        return ClientMetadata.REFRESH_TOKEN;
    }

    @Override
    public TokenResponse handle(TokenRequest request, AuthenticatedClient authenticated) {
        ClientRecord client = authenticated.record();
        Instant now = request.now();
        if (!authenticated.registeredFor(ClientMetadata.REFRESH_TOKEN)) {
            throw OAuthError.unauthorizedClient("This client is not registered for the refresh_token grant.");
        }
        String token = request.param("refresh_token");
        if (token == null) throw OAuthError.invalidRequest("The refresh_token parameter is missing.");
        String resource = request.param("resource");
        if (resource != null) Resources.requireOneOfOurs(resource, s.settings().mcpResources());
        String scopeParam = request.param("scope");
        Set<String> asked = scopeParam == null ? null : Scopes.parse(scopeParam);
        // the access token is minted first and stored with the rotation, in one commit where the store can
        AccessTokens.Minted access = s.accessTokens().mint();
        RefreshTokens.Access withAccess = new RefreshTokens.Access(s.accessTokens().store(), access.hash(),
                family -> issuer.record(TokenIssuer.Grant.of(family), scopesOf(family, asked), now));
        RefreshTokens.Rotation r = s.refreshTokens().rotate(token, client.clientId(), now, family -> {
            if (!s.lifecycle().userExistedSince(family.userId(), family.createdAt())) {
                s.lifecycle().revokeGrant(family, "user_removed");
                throw OAuthError.invalidGrant("The user of this sign-in no longer exists; sign in again.");
            }
            if (resource != null && family.resource() != null && !Resources.matchesOurResource(resource, family.resource())) {
                throw OAuthError.invalidTarget("This refresh token was issued for " + family.resource() + "; a refresh keeps its resource.");
            }
            if (asked != null && !Scopes.parse(family.scope()).containsAll(asked)) {
                throw OAuthError.invalidScope("A refresh can only keep or narrow the scopes granted ('" + family.scope() + "').");
            }
        }, withAccess);
        switch (r.outcome()) {
            case ROTATED -> {
                s.registry().markUsed(client, now);
                return issuer.issued(TokenIssuer.Grant.of(r.family()), scopesOf(r.family(), asked), r.refreshToken(), access.token());
            }
            case NO_ROOM -> {
                s.registry().markUsed(client, now);
                throw TokenIssuer.noRoom();
            }
            case REUSED -> {
                s.lifecycle().reuseDetected("refresh_token", r.family().familyId(), r.family().userId(), r.family().clientId());
                throw OAuthError.invalidGrant("This refresh token was already used and replaced. For safety the whole sign-in was revoked; sign in again.");
            }
            case EXPIRED -> throw OAuthError.invalidGrant("The refresh token has expired; sign in again.");
            case WRONG_CLIENT -> throw OAuthError.invalidGrant("The refresh token was issued to another client.");
            default -> throw OAuthError.invalidGrant("The refresh token is unknown or was revoked; sign in again.");
        }
    }

    /** The scopes asked for (a narrowing the precheck allowed), or else the grant's. */
    private static Set<String> scopesOf(io.mcpoauth.store.RefreshFamily family, Set<String> asked) {
        return asked == null || asked.isEmpty() ? Scopes.parse(family.scope()) : asked;
    }
}
