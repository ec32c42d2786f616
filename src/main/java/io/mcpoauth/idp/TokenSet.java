package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.apis.openid.OpenIdOAuth2AccessToken;
import com.github.scribejava.core.model.OAuth2AccessToken;
import io.mcpoauth.core.Json;

/**
 * Tokens from an upstream token endpoint. Secret values: {@link #toString()} never shows them, and they are only ever
 * written to disk encrypted.
 */
public record TokenSet(String accessToken, String refreshToken, String tokenType, Integer expiresIn, String scope, String idToken) {

    static TokenSet of(OAuth2AccessToken t) {
        String id = t instanceof OpenIdOAuth2AccessToken o ? o.getOpenIdToken() : null;
        if (id == null && t.getRawResponse() != null && t.getRawResponse().strip().startsWith("{")) {
            try {
                JsonNode n = Json.MAPPER.readTree(t.getRawResponse());
                if (n.path("id_token").isTextual()) id = n.get("id_token").asText();
            } catch (java.io.IOException ignored) {
                // not JSON: no id_token
            }
        }
        return new TokenSet(t.getAccessToken(), blankToNull(t.getRefreshToken()), t.getTokenType(), t.getExpiresIn(), blankToNull(t.getScope()), id);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @Override
    public String toString() {
        return "TokenSet[redacted, expiresIn=" + expiresIn + ", scope=" + scope + "]";
    }
}
