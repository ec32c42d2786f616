package io.mcpoauth.resource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import io.mcpoauth.core.Secrets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What the server keeps of a tool's question between two rounds of a modern call, inside the {@code requestState} the
 * SDK seals ({@code HmacRequestStateCodec}: HMAC-SHA256 over user, method, tool name and expiry): a digest of the call's
 * arguments, the keys of the questions asked, and the tool's own state. So the retry must come from the same user, for
 * the same tool, with the same arguments, and only answers to questions that were asked reach the tool
 * (2026-07-28 basic/patterns/mrtr: "an identifier for the originating request, e.g. the method name and a digest of
 * its salient parameters").
 */
record CallState(String argumentsDigest, List<String> asked, String toolState) {
    private static final ObjectMapper CANONICAL = Json.create().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    static CallState of(Map<String, Object> arguments, Collection<String> asked, String toolState) {
        return new CallState(digest(arguments), List.copyOf(asked), toolState);
    }

    String encode() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("v", 1);
        n.put("a", argumentsDigest);
        n.set("k", Json.MAPPER.valueToTree(asked));
        if (toolState != null) n.put("s", toolState);
        return n.toString();
    }

    /** The state inside an opened {@code requestState}, or null when it is not one of ours. */
    static CallState decode(String opened) {
        try {
            JsonNode n = Json.MAPPER.readTree(opened);
            if (n == null || n.path("v").asInt() != 1 || !n.path("a").isTextual() || !n.path("k").isArray()) return null;
            List<String> asked = new ArrayList<>();
            for (JsonNode k : n.get("k")) {
                if (!k.isTextual()) return null;
                asked.add(k.asText());
            }
            JsonNode s = n.get("s");
            return new CallState(n.get("a").asText(), asked, s != null && s.isTextual() ? s.asText() : null);
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    boolean matches(Map<String, Object> arguments) {
        return argumentsDigest.equals(digest(arguments));
    }

    /** SHA-256 of the arguments as canonical JSON (object keys sorted), base64url. */
    static String digest(Map<String, Object> arguments) {
        try {
            byte[] json = CANONICAL.writeValueAsBytes(arguments == null ? Map.of() : arguments);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(Secrets.sha256(json));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("arguments are not serialisable", e);
        }
    }
}
