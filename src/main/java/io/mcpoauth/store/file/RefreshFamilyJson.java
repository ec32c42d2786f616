package io.mcpoauth.store.file;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.RefreshFamily;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link RefreshFamily} to and from JSON by hand: it is written on every token refresh (journal) and 100,000 at a
 * time (snapshot), and read 100,000 at a time at start, where Jackson's record binding was the largest cost. The
 * output is byte for byte what {@link SnapshotFormat#MAPPER} writes (snake_case names in component order, nulls left
 * out); {@link #read} takes exactly that shape and answers null for anything else, so the caller can fall back on
 * Jackson.
 */
final class RefreshFamilyJson {
    private RefreshFamilyJson() {}

    static void write(JsonGenerator g, RefreshFamily f) throws IOException {
        g.writeStartObject();
        string(g, "family_id", f.familyId());
        string(g, "client_id", f.clientId());
        string(g, "user_id", f.userId());
        string(g, "scope", f.scope());
        string(g, "resource", f.resource());
        string(g, "token_hash", f.tokenHash());
        string(g, "previous_hash", f.previousHash());
        g.writeArrayFieldStart("retired");
        for (String r : f.retired()) g.writeString(r);
        g.writeEndArray();
        instant(g, "created_at", f.createdAt());
        instant(g, "rotated_at", f.rotatedAt());
        instant(g, "expires_at", f.expiresAt());
        g.writeNumberField("rotations", f.rotations());
        g.writeBooleanField("grace_used", f.graceUsed());
        g.writeEndObject();
    }

    private static void string(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) g.writeStringField(name, value);
    }

    private static void instant(JsonGenerator g, String name, Instant value) throws IOException {
        if (value != null) g.writeStringField(name, value.toString());
    }

    /** Reads the object the parser is at ({@code START_OBJECT}); null when it is not in the shape {@link #write} gives. */
    static RefreshFamily read(JsonParser p) throws IOException {
        String familyId = null, clientId = null, userId = null, scope = null, resource = null, tokenHash = null, previousHash = null;
        List<String> retired = null;
        Instant createdAt = null, rotatedAt = null, expiresAt = null;
        long rotations = 0;
        boolean graceUsed = false;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (name.equals("retired")) {
                if (v != JsonToken.START_ARRAY) return null;
                retired = new ArrayList<>(8);
                for (JsonToken a = p.nextToken(); a != JsonToken.END_ARRAY; a = p.nextToken()) {
                    if (a != JsonToken.VALUE_STRING) return null;
                    retired.add(p.getText());
                }
                continue;
            }
            if (name.equals("rotations")) {
                if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) return null;
                rotations = p.getLongValue();
                continue;
            }
            if (name.equals("grace_used")) {
                if (v != JsonToken.VALUE_TRUE && v != JsonToken.VALUE_FALSE) return null;
                graceUsed = v == JsonToken.VALUE_TRUE;
                continue;
            }
            if (v != JsonToken.VALUE_STRING) return null;
            String s = p.getText();
            switch (name) {
                case "family_id" -> familyId = s;
                case "client_id" -> clientId = s;
                case "user_id" -> userId = s;
                case "scope" -> scope = s;
                case "resource" -> resource = s;
                case "token_hash" -> tokenHash = s;
                case "previous_hash" -> previousHash = s;
                case "created_at" -> createdAt = Json.parseInstant(s);
                case "rotated_at" -> rotatedAt = Json.parseInstant(s);
                case "expires_at" -> expiresAt = Json.parseInstant(s);
                default -> {
                    return null; // a field this version does not write
                }
            }
        }
        if (p.currentToken() != JsonToken.END_OBJECT) return null;
        return new RefreshFamily(familyId, clientId, userId, scope, resource, tokenHash, previousHash, retired, createdAt, rotatedAt,
                expiresAt, rotations, graceUsed);
    }
}
