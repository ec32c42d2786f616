package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Hmac;
import io.mcpoauth.core.Json;
import io.mcpoauth.core.Secrets;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * A legacy-era (2025-xx) session of {@code /mcp} or a gateway endpoint, carried entirely in its {@code Mcp-Session-Id}:
 * the server keeps nothing, so a session survives a restart and is valid on every instance that shares the key.
 *
 * <p>The id is {@code mcs1.<payload>.<mac>}: the payload (base64url JSON) holds the negotiated version, the capabilities
 * the client declared in {@code initialize}, the issue time and a random nonce; the MAC (HMAC-SHA256 under a key
 * derived from the shared request-state key, {@link Hmac#derive}) covers the payload, the endpoint's path and the user
 * and client the bearer token was issued to. A session id presented by another user or client, on another endpoint,
 * changed in any way, or older than {@link #MAX_AGE}, is not a session of this caller: the endpoint answers 404, after
 * which the client initializes again (2025-11-25 basic/transports, Session Management).
 *
 * @param id              the {@code Mcp-Session-Id}
 * @param protocolVersion the version the server answered in {@code initialize}
 * @param elicitUrl       the client declared {@code elicitation.url}
 * @param elicitForm      the client declared form elicitation ({@code elicitation.form}, or an empty {@code elicitation})
 * @param sampling        the client declared {@code sampling}
 * @param roots           the client declared {@code roots}
 */
public record LegacySession(String id, String protocolVersion, boolean elicitUrl, boolean elicitForm, boolean sampling, boolean roots,
                            Instant issuedAt) {
    public static final String HEADER = "Mcp-Session-Id";
    /** How long a session id is honoured after its initialize; the client then initializes again. */
    public static final Duration MAX_AGE = Duration.ofDays(30);
    static final String PREFIX = "mcs1.";
    private static final int MAX_LENGTH = 1024;

    /** Seals and opens session ids under one key. */
    public static final class Codec {
        private final byte[] key;
        private final Clock clock;

        /** @param sharedKey the shared request-state key (at least 32 bytes; a key of its own is derived from it) */
        public Codec(byte[] sharedKey, Clock clock) {
            this.key = Hmac.derive(sharedKey, "mcp-legacy-session");
            this.clock = clock;
        }

        /**
         * A new session id for {@code caller} on {@code endpoint}, at {@code protocolVersion}, with the capabilities of
         * the initialize request ({@code params.capabilities}, missing or not an object: none).
         */
        public LegacySession issue(AuthContext caller, String endpoint, String protocolVersion, JsonNode capabilities) {
            JsonNode caps = capabilities != null && capabilities.isObject() ? capabilities : Json.MAPPER.createObjectNode();
            JsonNode elicitation = caps.get("elicitation");
            boolean elicits = elicitation != null && elicitation.isObject();
            boolean url = elicits && elicitation.path("url").isObject();
            boolean form = elicits && (elicitation.path("form").isObject() || !elicitation.has("url") && !elicitation.has("form"));
            boolean sampling = caps.path("sampling").isObject();
            boolean roots = caps.path("roots").isObject();
            Instant now = clock.instant();
            ObjectNode p = Json.MAPPER.createObjectNode();
            p.put("v", protocolVersion);
            p.put("c", (url ? "u" : "") + (form ? "f" : "") + (sampling ? "s" : "") + (roots ? "r" : ""));
            p.put("t", now.getEpochSecond());
            p.put("n", Secrets.randomString(12));
            String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(p.toString().getBytes(StandardCharsets.UTF_8));
            String id = PREFIX + payload + "." + mac(payload, caller, endpoint);
            return new LegacySession(id, protocolVersion, url, form, sampling, roots, Instant.ofEpochSecond(now.getEpochSecond()));
        }

        /** The session {@code id} names for {@code caller} on {@code endpoint}; null when it is not one (forged, another's, expired). */
        public LegacySession open(String id, AuthContext caller, String endpoint) {
            if (id == null || id.length() > MAX_LENGTH || !id.startsWith(PREFIX) || caller == null) return null;
            String[] parts = id.substring(PREFIX.length()).split("\\.", -1);
            if (parts.length != 2) return null;
            byte[] presented = parts[1].getBytes(StandardCharsets.US_ASCII);
            if (!Hmac.verify(mac(parts[0], caller, endpoint).getBytes(StandardCharsets.US_ASCII), presented)) return null;
            try {
                JsonNode p = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[0]));
                if (p == null || !p.path("v").isTextual() || !p.path("c").isTextual() || !p.path("t").canConvertToLong()) return null;
                Instant issued = Instant.ofEpochSecond(p.get("t").asLong());
                if (issued.plus(MAX_AGE).isBefore(clock.instant())) return null;
                String c = p.get("c").asText();
                return new LegacySession(id, p.get("v").asText(), c.contains("u"), c.contains("f"), c.contains("s"), c.contains("r"), issued);
            } catch (java.io.IOException | IllegalArgumentException e) {
                return null;
            }
        }

        private String mac(String payload, AuthContext caller, String endpoint) {
            return Hmac.base64(key, payload + "\n" + endpoint + "\n" + caller.userId() + "\n" + caller.clientId());
        }
    }
}
