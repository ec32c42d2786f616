package io.mcpoauth.store.file;

import static io.mcpoauth.store.file.Maps.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.admin.Cli;
import io.mcpoauth.admin.StoreCommand;
import io.mcpoauth.config.Settings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code store check} and {@code store recover} say per file what is wrong and what to do (server stopped). */
class StoreCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private Run store(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]), () -> Settings.from(Map.of("OAUTH_DATA_DIR", dir.toString())));
        int code = new StoreCommand().run(List.of(args), cli);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void checkNamesEachProblemAndTheRightAdvice() throws Exception {
        try (FileStore s = FileStore.open(dir)) {
            put(s.map("things.json", "things", String.class, SnapshotFormat.Layout.INDENTED), "a", "1");
            put(s.map("other.json", "other", String.class, SnapshotFormat.Layout.INDENTED), "b", "2");
        }
        assertEquals(0, store("check").code());

        Files.delete(dir.resolve("things.json"));
        Files.createDirectory(dir.resolve("things.json")); // a directory in place of a data file
        Files.delete(dir.resolve("other.json"));
        Files.delete(dir.resolve("other.json.prev")); // gone without a trace but .manifest
        Run check = store("check");
        assertEquals(1, check.code());
        assertTrue(check.out().contains("NOT A FILE: a directory is in its place"), check.out());
        assertTrue(check.out().contains("MISSING: it is listed in .manifest"), check.out());
        assertTrue(check.err().contains("move it out of the way") && check.err().contains("store recover"), check.err());

        Run recover = store("recover");
        assertEquals(1, recover.code());
        assertTrue(recover.err().contains("Not recovered: other.json, things.json"), recover.err());
        assertTrue(Files.isDirectory(dir.resolve("things.json")), "left alone");
        assertTrue(recover.out().contains("--discard other.json"), recover.out());
    }
}
