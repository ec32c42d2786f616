package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.CodeRecord;
import java.time.Instant;

/** {@code grant_type=authorization_code}: single-use codes, PKCE S256, redirect URI and resource checks. */
public final class AuthorizationCodeGrant implements GrantHandler {
    private final OAuthServices s;
    private final AuthorizationCodes codes;
    private final TokenIssuer issuer;

    public AuthorizationCodeGrant(OAuthServices services, AuthorizationCodes codes, TokenIssuer issuer) {
        this.s = services;
        this.codes = codes;
        this.issuer = issuer;
    }

    @Override
    public String grantType() {
        return ClientMetadata.AUTHORIZATION_CODE;
    }

    @Override
    public TokenResponse handle(TokenRequest request, AuthenticatedClient authenticated) {
        ClientRecord client = authenticated.record();
        Instant now = request.now();
        String code = request.param("code");
        if (code == null) throw OAuthError.invalidRequest("The code parameter is missing.");
        String verifier = request.param("code_verifier");
        if (verifier == null) throw OAuthError.invalidRequest("The code_verifier parameter is missing (PKCE is required).");
        CodeRecord c = codes.take(code, now);
        if (c == null) {
            String grant = codes.replayed(code, now);
            if (grant != null) {
                s.lifecycle().reuseDetected("authorization_code", grant.isEmpty() ? null : grant, null, client.clientId());
                throw OAuthError.invalidGrant("This authorization code was already used. Everything issued from it has been revoked; sign in again.");
            }
            throw OAuthError.invalidGrant("The authorization code is unknown or has expired; start the authorization again.");
        }
        boolean redeemed = false;
        try {
            if (!c.clientId().equals(client.clientId())) throw OAuthError.invalidGrant("The authorization code was issued to another client.");
            String redirect = request.param("redirect_uri");
            if (c.redirectUriGiven() && redirect == null) {
                throw OAuthError.invalidGrant("The redirect_uri sent to /authorize must be repeated in the token request.");
            }
            if (redirect != null && !redirect.equals(c.redirectUri())) {
                throw OAuthError.invalidGrant("The redirect_uri differs from the one used to get the authorization code.");
            }
            if (!Pkce.isValidVerifier(verifier) || !Pkce.verifyS256(verifier, c.codeChallenge())) {
                throw OAuthError.invalidGrant("The code_verifier does not match the code_challenge sent to /authorize.");
            }
            if (!s.lifecycle().userExistedSince(c.userId(), c.expiresAt().minus(s.settings().authCodeTtl))) {
                throw OAuthError.invalidGrant("The user who approved this code no longer exists; start the authorization again.");
            }
            String resource = request.param("resource");
            if (resource != null) {
                Resources.requireOneOfOurs(resource, s.settings().mcpResources());
                if (c.resource() != null && !Resources.matchesOurResource(resource, c.resource())) {
                    throw OAuthError.invalidTarget("The resource differs from the one sent to /authorize (" + c.resource() + ").");
                }
            }
            boolean refresh = authenticated.registeredFor(ClientMetadata.REFRESH_TOKEN);
            RefreshTokens.Issued issued = s.refreshTokens().create(client.clientId(), c.userId(), Scopes.format(c.scopes()), c.resource(), refresh, now);
            redeemed = true;
            if (!codes.markRedeemed(code, issued.family().familyId(), now)) {
                // Presented again while we were issuing: exactly one caller gets tokens, and they are already revoked.
                s.lifecycle().revokeGrant(issued.family(), "reuse");
            }
            s.registry().markUsed(client, now);
            return issuer.issue(TokenIssuer.Grant.of(issued.family()), c.scopes(), issued.refreshToken(), now);
        } finally {
            if (!redeemed) codes.forget(code);
        }
    }

}
