package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Json;
import java.time.Instant;
import java.util.Base64;

/**
 * The claims of an id_token received directly from the provider's token endpoint over TLS (OpenID Connect Core
 * 3.1.3.7: with the code flow, TLS server validation may stand in for the signature check). The audience, issuer
 * (when known), expiry and nonce are still checked.
 */
final class IdTokenClaims {
    private IdTokenClaims() {}

    static JsonNode parse(String idToken) {
        String[] parts = idToken.split("\\.");
        if (parts.length < 2) throw new Identity.Refused("The provider sent an id_token that is not a JWT.");
        try {
            JsonNode n = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
            if (!n.isObject()) throw new Identity.Refused("The provider sent an id_token without claims.");
            return n;
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw new Identity.Refused("The provider sent an id_token that cannot be read.");
        }
    }

    /** Checks aud, iss (when {@code issuer} is not null), exp and nonce; throws {@link Identity.Refused}. */
    static void check(JsonNode c, String clientId, String issuer, String nonce, Instant now) {
        JsonNode aud = c.path("aud");
        boolean audOk = aud.isTextual() ? aud.asText().equals(clientId) : false;
        if (aud.isArray()) {
            for (JsonNode a : aud) audOk |= a.asText().equals(clientId);
        }
        if (!audOk) throw new Identity.Refused("The provider's id_token was issued to another client.");
        if (issuer != null && !issuer.equals(c.path("iss").asText())) throw new Identity.Refused("The provider's id_token comes from another issuer.");
        if (c.has("exp") && c.path("exp").asLong() + 300 < now.getEpochSecond()) throw new Identity.Refused("The provider's id_token has expired.");
        if (nonce != null && !nonce.equals(c.path("nonce").asText())) {
            throw new Identity.Refused("The provider's id_token belongs to another sign-in (nonce mismatch).");
        }
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isTextual() && !v.asText().isBlank()) return v.asText();
        if (v.isNumber()) return v.asText();
        return null;
    }

    /** True for JSON true or the string "true" (Google has sent both). */
    static boolean isTrue(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isBoolean() ? v.asBoolean() : v.isTextual() && v.asText().equalsIgnoreCase("true");
    }
}
