package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.file.SnapshotFormat;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The store's fast paths give what the general ones gave: refresh-token families are written byte for byte as Jackson
 * wrote them, a file loads to the same records, and anything the fast path does not take (an unknown field, a key
 * twice, damage) gets the general path's answer.
 */
class StoreFastPathsTest {
    private static final SnapshotFormat FORMAT = new SnapshotFormat();
    private static final String MARKER = "\n  \"crc32c\": \"";

    private static Map<String, RefreshFamily> families(int n) {
        Random r = new Random(1);
        Map<String, RefreshFamily> out = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String id = "fam" + i;
            List<String> retired = new ArrayList<>();
            for (int k = 0; k < i % 6; k++) retired.add(Long.toString(r.nextLong(), 36));
            String user = switch (i % 4) {
                case 0 -> "local:alice";
                case 1 -> "google:1049" + i;
                case 2 -> "oidc:\"quoted\" \\ back\u00e9\u4e2d\u0001";
                default -> "github:" + i;
            };
            Instant t = Instant.ofEpochSecond(1_700_000_000L + i, i % 3 == 0 ? 0 : r.nextInt(1_000_000_000));
            out.put(id, new RefreshFamily(id, i % 5 == 0 ? "https://client.example/meta.json" : "mcpc_c" + (i % 7), user,
                    i % 2 == 0 ? "mcp" : "mcp notes", "https://mcp.example.com/mcp", i % 9 == 0 ? null : "h" + i, i % 3 == 0 ? null : "p" + i,
                    retired, t, t.plusSeconds(60), t.plusSeconds(86_400), i));
        }
        return out;
    }

    @Test
    void familiesAreWrittenAsJacksonWritesThem() throws Exception {
        Map<String, RefreshFamily> records = families(200);
        String file = new String(FORMAT.encode("refresh_tokens", 3, records.entrySet(), SnapshotFormat.Layout.ONE_LINE, 2), StandardCharsets.UTF_8);
        StringBuilder expected = new StringBuilder();
        boolean first = true;
        for (Map.Entry<String, RefreshFamily> e : records.entrySet()) {
            expected.append(first ? "\n    " : ",\n    ");
            first = false;
            expected.append(SnapshotFormat.MAPPER.writeValueAsString(e.getKey())).append(": ").append(SnapshotFormat.MAPPER.writeValueAsString(e.getValue()));
        }
        int start = file.indexOf("\"records\": {") + "\"records\": {".length();
        assertEquals(expected.toString(), file.substring(start, file.indexOf("\n  },\n", start)));
    }

    @Test
    void aFileLoadsToTheSameRecordsEitherWay() throws Exception {
        Map<String, RefreshFamily> records = families(300);
        byte[] bytes = FORMAT.encode("refresh_tokens", 7, records.entrySet(), SnapshotFormat.Layout.ONE_LINE, 4);
        long[] header = new long[2];
        Map<String, RefreshFamily> fast = FORMAT.decodeRecords(bytes, "refresh_tokens", RefreshFamily.class, header);
        assertEquals(records, fast);
        assertEquals(7, header[0]);
        assertEquals(4, header[1]);
        assertEquals(records, general(bytes));
        RefreshFamily f = fast.get("fam7");
        assertSame(f.familyId(), fast.keySet().stream().filter("fam7"::equals).findFirst().orElseThrow(), "one String for the key and the id");
        assertSame("mcpc_c0".intern(), fast.get("fam14").clientId(), "client ids are shared");
    }

    @Test
    void whatTheFastPathDoesNotTakeGetsTheGeneralAnswer() throws Exception {
        Map<String, RefreshFamily> records = families(20);
        String file = new String(FORMAT.encode("refresh_tokens", 1, records.entrySet(), SnapshotFormat.Layout.ONE_LINE, 1), StandardCharsets.UTF_8);

        // A field this version does not write (a later version's): loaded through Jackson, which ignores it.
        String extra = withCrc(file.replace("\"rotations\":3}", "\"rotations\":3,\"new_field\":{\"x\":[1,2]}}"));
        assertEquals(records, FORMAT.decodeRecords(bytes(extra), "refresh_tokens", RefreshFamily.class, new long[2]));

        // A key twice, or a flipped byte, or a cut: refused with the general path's reason.
        String line = file.substring(file.indexOf("\n    \"fam1\""), file.indexOf(",\n    \"fam10\""));
        String twice = withCrc(file.replace(line, line + "," + line));
        String flipped = file.replace("\"scope\":\"mcp\"", "\"scope\":\"mcq\"");
        String cut = file.substring(0, file.length() / 2);
        String newer = withCrc(file.replace("\"format\": 1", "\"format\": 2"));
        String otherKind = withCrc(file.replace("\"kind\": \"refresh_tokens\"", "\"kind\": \"clients\""));
        for (String bad : List.of(twice, flipped, cut, newer, otherKind)) {
            SnapshotFormat.Corrupt general = assertThrows(SnapshotFormat.Corrupt.class, () -> FORMAT.decode(bytes(bad), "refresh_tokens"));
            SnapshotFormat.Corrupt fast = assertThrows(SnapshotFormat.Corrupt.class,
                    () -> FORMAT.decodeRecords(bytes(bad), "refresh_tokens", RefreshFamily.class, new long[2]));
            assertEquals(general.getMessage(), fast.getMessage());
            assertEquals(general.getClass(), fast.getClass());
        }
    }

    @Test
    void retiredHashesAreAListLikeAnyOther() throws Exception {
        List<String> retired = List.of("aaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbb", "", "c");
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        RefreshFamily f = new RefreshFamily("f", "c", "u", "mcp", "r", "h", null, retired, t, t, t, 0);
        assertEquals(retired, f.retired());
        assertEquals(f.retired(), retired);
        assertEquals(retired.hashCode(), f.retired().hashCode());
        assertEquals(retired.toString(), f.retired().toString());
        assertTrue(f.retired().contains("c"));
        assertFalse(f.retired().contains("d"));
        assertThrows(UnsupportedOperationException.class, () -> f.retired().add("x"));
        assertThrows(NullPointerException.class, () -> new RefreshFamily("f", "c", "u", "mcp", "r", "h", null, java.util.Arrays.asList("a", null),
                t, t, t, 0));
        assertEquals(List.of("a b", "c"), new RefreshFamily("f", "c", "u", "mcp", "r", "h", null, List.of("a b", "c"), t, t, t, 0).retired());
        assertEquals(f, SnapshotFormat.MAPPER.readValue(SnapshotFormat.MAPPER.writeValueAsString(f), RefreshFamily.class));
    }

    private static Map<String, RefreshFamily> general(byte[] bytes) throws Exception {
        Map<String, RefreshFamily> out = new TreeMap<>();
        SnapshotFormat.Decoded d = FORMAT.decode(bytes, "refresh_tokens");
        for (var it = d.records().fields(); it.hasNext(); ) {
            var e = it.next();
            out.put(e.getKey(), FORMAT.read(e.getValue(), RefreshFamily.class));
        }
        return out;
    }

    /** The file with its checksum line recomputed, as if the change had been written by the store. */
    private static String withCrc(String file) {
        int marker = file.lastIndexOf(MARKER);
        byte[] body = bytes(file.substring(0, marker));
        CRC32C crc = new CRC32C();
        crc.update(body);
        return file.substring(0, marker) + MARKER + HexFormat.of().toHexDigits((int) crc.getValue()) + "\"\n}\n";
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
