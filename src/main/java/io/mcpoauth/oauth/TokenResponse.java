package io.mcpoauth.oauth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A successful token response (RFC 6749 §5.1) and what it was issued for.
 *
 * @param refreshToken null for a client registered without the refresh_token grant
 * @param grant        the client, user, resource and grant id the access token belongs to
 */
public record TokenResponse(String accessToken, long expiresIn, String refreshToken, Set<String> scopes, TokenIssuer.Grant grant) {
    /** The JSON body: no null value is written. */
    public Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", accessToken);
        body.put("token_type", "Bearer");
        body.put("expires_in", expiresIn);
        if (refreshToken != null) body.put("refresh_token", refreshToken);
        body.put("scope", Scopes.format(scopes));
        return body;
    }
}
