package io.mcpoauth.store.file;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.RefreshFamily;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * The on-disk format of one store file: readable, stably ordered JSON with a format version, a generation counter,
 * and a CRC-32C over everything before the checksum line, so truncation and flipped bytes are detected.
 *
 * <pre>
 * {
 *   "format": 1,
 *   "kind": "clients",
 *   "generation": 12,
 *   "written_at": "2026-11-23T13:00:00Z",
 *   "records": {
 *     "key": { ... }
 *   },
 *   "crc32c": "0a1b2c3d"
 * }
 * </pre>
 */
public final class SnapshotFormat {
    public static final int FORMAT = 1;
    /** Snake-case names for stored records; nulls are omitted. */
    public static final ObjectMapper MAPPER = Json.create().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    private static final byte[] CRC_MARKER = "\n  \"crc32c\": \"".getBytes(StandardCharsets.US_ASCII);

    /** How records are laid out: one line each (compact, for large files) or indented (for files admins read). */
    public enum Layout { ONE_LINE, INDENTED }

    /**
     * For {@link #decodeRecords}: names are not interned in the JVM (100,000 family ids) and not checked for
     * duplicates field by field (a file is only taken from the fast path when its checksum matches, i.e. as this code
     * wrote it; a key seen twice still sends it to {@link #decode}, which refuses duplicates).
     */
    private static final JsonFactory LOADING = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .streamReadConstraints(MAPPER.getFactory().streamReadConstraints())
            .build();

    /** Writes records one after the other on one generator, separators written raw (see {@link #writeOneLine}). */
    private static final JsonFactory WRITING = MAPPER.getFactory().copy().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET).setRootValueSeparator(null);

    private final ObjectWriter compact;
    private final ObjectWriter indented;

    public SnapshotFormat() {
        compact = MAPPER.writer();
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withObjectIndenter(new DefaultIndenter("  ", "\n    "))
                .withArrayIndenter(new DefaultIndenter("  ", "\n    "));
        indented = MAPPER.writer(pp.withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)));
    }

    /** What a file held. */
    /** {@code journalSegment} is 0 for a file without a journal. */
    public record Decoded(String kind, long generation, ObjectNode records, long journalSegment) {}

    /** The file could not be trusted; {@code reason} is a short phrase (e.g. "checksum mismatch"). */
    public static class Corrupt extends Exception {
        public Corrupt(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The file is fine but was written by a newer version: nothing is wrong with it, this version just cannot read it. */
    public static final class NewerFormat extends Corrupt {
        public NewerFormat(String reason) {
            super(reason);
        }
    }

    public byte[] encode(String kind, long generation, Iterable<? extends Map.Entry<String, ?>> records, Layout layout) {
        return encode(kind, generation, records, layout, 0);
    }

    /** With {@code journalSegment > 0}, the file records that the journal is replayed from that segment on. */
    public byte[] encode(String kind, long generation, Iterable<? extends Map.Entry<String, ?>> records, Layout layout, long journalSegment) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            write(out, "{\n  \"format\": " + FORMAT + ",\n  \"kind\": " + quote(kind) + ",\n  \"generation\": " + generation
                    + (journalSegment > 0 ? ",\n  \"journal_from\": " + journalSegment : "")
                    + ",\n  \"written_at\": \"" + Instant.now() + "\",\n  \"records\": {");
            boolean first = layout == Layout.INDENTED ? writeIndented(out, records) : writeOneLine(out, records);
            write(out, first ? "},\n" : "\n  },\n");
            CRC32C crc = new CRC32C();
            byte[] body = out.toByteArray();
            crc.update(body, 0, body.length - 1); // everything up to, not including, the final newline
            write(out, "  \"crc32c\": \"" + hex(crc.getValue()) + "\"\n}\n");
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + kind, e);
        }
    }

    /** Returns true when there were no records. */
    private boolean writeIndented(ByteArrayOutputStream out, Iterable<? extends Map.Entry<String, ?>> records) throws IOException {
        boolean first = true;
        for (Map.Entry<String, ?> e : records) {
            write(out, first ? "\n    " : ",\n    ");
            first = false;
            out.write(quote(e.getKey()).getBytes(StandardCharsets.UTF_8));
            write(out, ": ");
            out.write(indented.writeValueAsBytes(e.getValue()));
        }
        return first;
    }

    /** The same bytes as {@link #writeIndented} would give with the compact writer, through one generator (100,000 records). */
    private boolean writeOneLine(ByteArrayOutputStream out, Iterable<? extends Map.Entry<String, ?>> records) throws IOException {
        boolean first = true;
        try (JsonGenerator g = WRITING.createGenerator(out)) {
            for (Map.Entry<String, ?> e : records) {
                g.writeRaw(first ? "\n    " : ",\n    ");
                first = false;
                g.writeString(e.getKey());
                g.writeRaw(": ");
                if (e.getValue() instanceof RefreshFamily f) RefreshFamilyJson.write(g, f);
                else compact.writeValue(g, e.getValue());
            }
        }
        return first;
    }

    /** Parses and verifies a file; {@code expectedKind} null accepts any kind. */
    public Decoded decode(byte[] bytes, String expectedKind) throws Corrupt {
        if (bytes.length == 0) throw new Corrupt("the file is empty");
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new Corrupt("it is not complete, valid JSON (truncated or damaged)");
        }
        if (root == null || !root.isObject()) throw new Corrupt("it is not a JSON object");
        JsonNode format = root.get("format");
        if (format == null || !format.canConvertToInt()) throw new Corrupt("it has no format version");
        if (format.asInt() > FORMAT) {
            throw new NewerFormat("it was written by a newer version of mcp-oauth-server (format " + format.asInt()
                    + "; this version reads format " + FORMAT + ")");
        }
        String kind = root.path("kind").asText("");
        if (expectedKind != null && !kind.equals(expectedKind)) throw new Corrupt("it holds '" + kind + "', expected '" + expectedKind + "'");
        int marker = lastIndexOf(bytes, CRC_MARKER);
        if (marker < 0 || !root.path("crc32c").isTextual()) throw new Corrupt("its checksum is missing");
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, marker);
        if (!hex(crc.getValue()).equals(root.get("crc32c").asText())) throw new Corrupt("its checksum does not match its content");
        JsonNode records = root.get("records");
        if (records == null || !records.isObject()) throw new Corrupt("it has no records object");
        return new Decoded(kind, root.path("generation").asLong(0), (ObjectNode) records, root.path("journal_from").asLong(0));
    }

    /**
     * {@link #decode} then {@link #read} of every record, into a new map, without building a tree of the whole file:
     * records are bound one by one as the parser reaches them (100,000 families, about 60 MB, load in a fraction of
     * the time and memory). A file this fast path does not accept as it is goes through {@link #decode} and
     * {@link #read}, so a damaged file is refused with the same reason as before.
     */
    public <V> Map<String, V> decodeRecords(byte[] bytes, String expectedKind, Class<V> type, long[] generationAndJournal) throws Corrupt {
        try {
            Map<String, V> fast = stream(bytes, expectedKind, type, generationAndJournal);
            if (fast != null) return fast;
        } catch (IOException | RuntimeException e) {
            // below: the same reason as decode() and read() give
        }
        Decoded d = decode(bytes, expectedKind);
        Map<String, V> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = d.records().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), read(e.getValue(), type));
        }
        generationAndJournal[0] = d.generation();
        generationAndJournal[1] = d.journalSegment();
        return out;
    }

    /** The records of a well-formed file of {@code expectedKind} with a matching checksum; null for anything else. */
    private <V> Map<String, V> stream(byte[] bytes, String expectedKind, Class<V> type, long[] generationAndJournal) throws IOException {
        int marker = lastIndexOf(bytes, CRC_MARKER);
        if (marker < 0) return null;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, marker);
        Map<String, V> out = new ConcurrentHashMap<>(bytes.length / 600); // about one record per 600 bytes; kept by DurableMap
        Integer format = null;
        String kind = null;
        String checksum = null;
        boolean records = false;
        long generation = 0;
        long journal = 0;
        try (JsonParser p = LOADING.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "format" -> format = v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT ? p.getIntValue() : null;
                    case "kind" -> kind = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "generation" -> generation = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : Long.MIN_VALUE;
                    case "journal_from" -> journal = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : Long.MIN_VALUE;
                    case "crc32c" -> checksum = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "records" -> {
                        if (v != JsonToken.START_OBJECT) return null;
                        for (JsonToken r = p.nextToken(); r == JsonToken.FIELD_NAME; r = p.nextToken()) {
                            String key = p.currentName();
                            if (p.nextToken() != JsonToken.START_OBJECT) return null;
                            V value = type == RefreshFamily.class ? type.cast(RefreshFamilyJson.read(p)) : MAPPER.readValue(p, type);
                            if (value == null) return null;
                            // a family's id is also its key: keep one String for both
                            if (out.put(value instanceof RefreshFamily f && key.equals(f.familyId()) ? f.familyId() : key, value) != null) {
                                return null; // a key twice
                            }
                        }
                        records = true;
                    }
                    default -> p.skipChildren();
                }
            }
        }
        if (format == null || format > FORMAT || kind == null || expectedKind != null && !kind.equals(expectedKind) || !records
                || generation == Long.MIN_VALUE || journal == Long.MIN_VALUE || !hex(crc.getValue()).equals(checksum)) {
            return null;
        }
        generationAndJournal[0] = generation;
        generationAndJournal[1] = journal;
        return out;
    }

    public <V> V read(JsonNode node, Class<V> type) throws Corrupt {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw new Corrupt("a record cannot be read (" + e.getOriginalMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new Corrupt("a record cannot be read (" + e.getMessage() + ")");
        }
    }

    private static String hex(long crc) {
        return HexFormat.of().toHexDigits((int) crc);
    }

    private static String quote(String s) {
        try {
            return Json.MAPPER.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = hay.length - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
