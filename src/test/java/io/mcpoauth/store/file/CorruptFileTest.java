package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A damaged file at start: refused with a message naming the file and the recovery command, moved aside as
 * {@code <name>.corrupt-<timestamp>}, and a second start is still refused: the store never starts empty over data.
 */
class CorruptFileTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofDays(30);
    private static final Pattern ASIDE = Pattern.compile(Pattern.quote(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS) + "\\.corrupt-\\d{8}T\\d{6}Z");

    @TempDir
    Path dir;

    enum Damage {
        TRUNCATED(b -> java.util.Arrays.copyOf(b, b.length / 2), "not complete"),
        FLIPPED_BYTE(CorruptFileTest::flipInsideAHash, "checksum"),
        EMPTY(b -> new byte[0], "empty"),
        BAD_CHECKSUM_VALID_JSON(b -> replace(b, "\"crc32c\": \"", 8, "00000000"), "checksum"),
        NEWER_FORMAT(b -> withValidChecksum(replace(b, "\"format\": ", 1, "2")), "newer version");

        final UnaryOperator<byte[]> damage;
        final String reason;

        Damage(UnaryOperator<byte[]> damage, String reason) {
            this.damage = damage;
            this.reason = reason;
        }
    }

    /** A store with two generations of refresh_tokens.json (so .prev exists) and a clients.json. */
    private void populate() {
        try (FileStore store = FileStore.open(dir)) {
            ClientStore clients = FileStores.clients(store);
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), TTL);
            clients.put(new ClientRecord("c1", "Client", List.of("http://127.0.0.1:9/cb"), null, null, "none", null, null, null,
                    null, NOW, null, null, null));
            tokens.create("c1", "alice", "mcp", null, true, NOW);
            tokens.create("c1", "bob", "mcp", null, true, NOW);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Damage.class, names = "NEWER_FORMAT", mode = EnumSource.Mode.EXCLUDE)
    void damagedFileIsRefusedMovedAsideAndStaysRefused(Damage damage) throws Exception {
        populate();
        Path file = dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS);
        Path prev = dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + SnapshotWriter.PREV_SUFFIX);
        byte[] prevBytes = Files.readAllBytes(prev);
        byte[] damaged = damage.damage.apply(Files.readAllBytes(file));
        Files.write(file, damaged);
        if (damage == Damage.BAD_CHECKSUM_VALID_JSON || damage == Damage.FLIPPED_BYTE) {
            SnapshotFormat.MAPPER.readTree(damaged); // still valid JSON: only the checksum can tell
        }

        String msg = refusal();
        assertTrue(msg.contains(file.toAbsolutePath().toString()), "names the file: " + msg);
        assertTrue(msg.contains("store recover"), "gives the recovery command: " + msg);
        assertTrue(msg.contains(damage.reason), "says what is wrong (" + damage.reason + "): " + msg);
        assertFalse(Files.exists(file), "the damaged file was moved away");
        List<Path> aside = aside();
        assertEquals(1, aside.size(), "moved aside as <name>.corrupt-<timestamp>: " + aside);
        assertTrue(msg.contains(aside.get(0).getFileName().toString()), "the message says where it went: " + msg);
        assertArrayEquals(damaged, Files.readAllBytes(aside.get(0)), "moved, byte for byte");
        assertArrayEquals(prevBytes, Files.readAllBytes(prev), "the previous generation is untouched");

        String second = refusal();
        assertTrue(second.contains(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS) && second.contains("store recover"), second);
        assertFalse(Files.exists(file), "a refused start never creates an empty file");
        assertEquals(aside, aside(), "nothing else was moved");
    }

    /** A file from a newer version is not damage: it stays where it is (so going back to that version just works). */
    @Test
    void newerFormatIsRefusedAndLeftInPlace() throws Exception {
        populate();
        Path file = dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS);
        byte[] newer = Damage.NEWER_FORMAT.damage.apply(Files.readAllBytes(file));
        Files.write(file, newer);
        for (int attempt = 0; attempt < 2; attempt++) {
            String msg = refusal();
            assertTrue(msg.contains(file.toAbsolutePath().toString()) && msg.contains("newer version"), msg);
            assertFalse(msg.contains("store recover"), "recovering an older generation is not the advice here: " + msg);
            assertArrayEquals(newer, Files.readAllBytes(file), "left in place, byte for byte");
            assertEquals(List.of(), aside());
        }
    }

    @Test
    void missingFileWhilePrevExistsIsRefused() throws Exception {
        populate();
        Files.delete(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS));
        for (int attempt = 0; attempt < 2; attempt++) {
            String msg = refusal();
            assertTrue(msg.contains(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS) && msg.contains(dir.toAbsolutePath().toString()), "names the file and directory: " + msg);
            assertTrue(msg.contains(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS + ".prev"), "says which trace was found: " + msg);
            assertTrue(msg.contains("store recover"), msg);
            assertFalse(Files.exists(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS)));
        }
    }

    @Test
    void damagedClientsFileIsRefusedToo() throws Exception {
        populate();
        Path file = dir.resolve(io.mcpoauth.store.file.FileStores.CLIENTS);
        Files.write(file, flipInsideAHash(Files.readAllBytes(file)));
        try (FileStore store = FileStore.open(dir)) {
            StoreException e = assertThrows(StoreException.class, () -> FileStores.clients(store));
            assertFalse(e.unavailable());
            assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()) && e.getMessage().contains("store recover"), e.getMessage());
        }
    }

    @Test
    void aFreshDirectoryStartsEmpty() {
        try (FileStore store = FileStore.open(dir)) {
            assertEquals(0, new RefreshTokens(FileStores.grants(store), TTL).size());
            assertEquals(0, FileStores.clients(store).count());
        }
    }

    /**
     * Every single-bit flip anywhere in a small file is either refused or decodes to exactly the same content
     * (only a flip of the final newline, which is outside the JSON value, is harmless).
     */
    @Test
    void everySingleBitFlipIsDetectedOrHarmless() throws Exception {
        populate();
        byte[] good = Files.readAllBytes(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS));
        SnapshotFormat format = new SnapshotFormat();
        SnapshotFormat.Decoded original = format.decode(good, "refresh_tokens");
        int harmless = 0;
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] b = good.clone();
                b[i] ^= (byte) (1 << bit);
                try {
                    SnapshotFormat.Decoded d = format.decode(b, "refresh_tokens");
                    if (!d.records().equals(original.records()) || d.generation() != original.generation()) {
                        fail("flipping bit " + bit + " of byte " + i + " ('" + (char) good[i] + "') went undetected");
                    }
                    harmless++;
                } catch (SnapshotFormat.Corrupt expected) {
                    // detected
                }
            }
        }
        assertTrue(harmless <= 8, "only flips outside the JSON value are harmless, saw " + harmless);
    }

    /** Opens the store and its files; returns the refusal message, failing if the start succeeded. */
    private String refusal() {
        try (FileStore store = FileStore.open(dir)) {
            FileStores.clients(store);
            StoreException e = assertThrows(StoreException.class, () -> new RefreshTokens(FileStores.grants(store), TTL), "a damaged file must refuse the start");
            assertFalse(e.unavailable(), "a refusal, not a transient failure");
            return e.getMessage();
        }
    }

    private List<Path> aside() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> ASIDE.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
    }

    /** Flips one bit of a character inside the first token hash: the JSON stays valid, the content changes. */
    static byte[] flipInsideAHash(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        int at = s.indexOf("_hash\":\"");
        if (at < 0) at = s.indexOf("\"client_name\": \"");
        if (at < 0) throw new AssertionError("no hash in " + s);
        int i = s.indexOf(':', at) + 3;
        byte[] copy = b.clone();
        copy[i] ^= 0x01;
        return copy;
    }

    /** Replaces {@code len} bytes right after the first {@code marker}. */
    static byte[] replace(byte[] b, String marker, int len, String with) {
        String s = new String(b, StandardCharsets.UTF_8);
        int at = s.indexOf(marker);
        if (at < 0) throw new AssertionError("no " + marker);
        int from = at + marker.length();
        return (s.substring(0, from) + with + s.substring(from + len)).getBytes(StandardCharsets.UTF_8);
    }

    /** Recomputes the checksum the way {@link SnapshotFormat} does, so the only defect left is the one we planted. */
    static byte[] withValidChecksum(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        String marker = "\n  \"crc32c\": \"";
        int at = s.lastIndexOf(marker);
        byte[] body = s.substring(0, at).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        String fixed = s.substring(0, at + marker.length()) + HexFormat.of().toHexDigits((int) crc.getValue()) + s.substring(at + marker.length() + 8);
        return fixed.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void checksumHelperMatchesTheFormat() throws Exception {
        populate();
        byte[] good = Files.readAllBytes(dir.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS));
        assertArrayEquals(good, withValidChecksum(good));
        // a changed generation with a recomputed checksum decodes: so NEWER_FORMAT is refused for its version alone
        SnapshotFormat.Decoded d = new SnapshotFormat().decode(withValidChecksum(replace(good, "\"generation\": ", 1, "7")), "refresh_tokens");
        assertEquals(7, d.generation());
        JsonNode root = SnapshotFormat.MAPPER.readTree(withValidChecksum(replace(good, "\"format\": ", 1, "2")));
        assertEquals(2, root.get("format").asInt());
    }
}
