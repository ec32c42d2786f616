package io.mcpoauth.store.file;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.mcpoauth.store.RefreshFamily;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * One journal frame's payload: {@code {"seq": n, "changes": [{"k": key, "v": record}, {"k": removedKey}]}}, compact
 * JSON in the same record format as the snapshot. Every change carries the whole record, so replay is idempotent.
 */
final class JournalCodec<V> {
    private final Class<V> type;
    private final ObjectWriter writer = SnapshotFormat.MAPPER.writer();

    JournalCodec(Class<V> type) {
        this.type = type;
    }

    byte[] encode(long seq, java.util.Collection<? extends Map.Entry<String, V>> changes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 * changes.size() + 32);
        try (JsonGenerator g = SnapshotFormat.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("seq", seq);
            g.writeArrayFieldStart("changes");
            for (Map.Entry<String, V> c : changes) {
                g.writeStartObject();
                g.writeStringField("k", c.getKey());
                if (c.getValue() != null) {
                    g.writeFieldName("v");
                    if (c.getValue() instanceof RefreshFamily f) RefreshFamilyJson.write(g, f); // the hot record, by hand
                    else writer.writeValue(g, c.getValue());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /** Applies a frame to {@code into}. */
    void apply(byte[] payload, Map<String, V> into, SnapshotFormat format) throws SnapshotFormat.Corrupt {
        JsonNode root;
        try {
            root = SnapshotFormat.MAPPER.readTree(payload);
        } catch (IOException e) {
            throw new SnapshotFormat.Corrupt("a journal frame is not valid JSON although its checksum matches");
        }
        JsonNode changes = root == null ? null : root.get("changes");
        if (changes == null || !changes.isArray()) throw new SnapshotFormat.Corrupt("a journal frame has no changes");
        for (Iterator<JsonNode> it = changes.elements(); it.hasNext(); ) {
            JsonNode c = it.next();
            String key = c.path("k").asText(null);
            if (key == null) throw new SnapshotFormat.Corrupt("a journal change has no key");
            JsonNode v = c.get("v");
            if (v == null) into.remove(key);
            else into.put(key, format.read(v, type));
        }
    }
}
