package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a failed write, a request that changes nothing (a refresh with the wrong client, a lookup inside a
 * transaction) must not keep failing until some other request happens to change something: it commits again itself,
 * which rewrites everything, and succeeds once the disk works.
 */
class ReadAfterFailureTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aTransactionThatChangesNothingRetriesTheFailedWriteInsteadOfFailingForever() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        String token;
        try (FileStore store = FileStore.open(dir, ops)) {
            RefreshTokens tokens = new RefreshTokens(store, Duration.ofDays(1));
            token = tokens.create("client", "alice", "mcp", null, true, NOW).refreshToken();
            ops.hook = (op, p) -> {
                if (op == RecordingFileOps.Op.FORCE_DATA) throw new IOException("injected: Input/output error");
            };
            assertThrows(StoreException.class, () -> tokens.create("client", "bob", "mcp", null, true, NOW));
            assertFalse(store.healthy());
            ops.hook = (op, p) -> { };

            // changes nothing, but saw bob's family, which is not on disk yet: commits again and succeeds
            RefreshTokens.Rotation r = tokens.rotate(token, "other-client", NOW, f -> { });
            assertEquals(RefreshTokens.Outcome.WRONG_CLIENT, r.outcome());
            assertTrue(store.healthy(), "the retried write succeeded");
        }
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(store, Duration.ofDays(1));
            assertEquals(2, tokens.size(), "the change kept in memory was written by the retry");
            assertNotNull(tokens.find(token, NOW));
        }
    }
}
