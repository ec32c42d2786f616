package io.mcpoauth.oauth;

/**
 * One grant type of the token endpoint. {@link TokenEndpoint} keeps one handler per {@code grant_type} (the keys of
 * that map are {@code grant_types_supported} in the metadata), authenticates the client before calling it, and
 * reports {@code tokensIssued} for every response. A handler validates its own parameters, has the tokens minted by
 * {@link TokenIssuer}, and throws {@link io.mcpoauth.http.OAuthError} to refuse.
 */
public interface GrantHandler {
    /** The {@code grant_type} value it handles, e.g. {@code authorization_code}. */
    String grantType();

    TokenResponse handle(TokenRequest request, AuthenticatedClient client);
}
