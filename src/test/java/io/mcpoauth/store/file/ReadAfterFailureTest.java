package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a failed write, a request that changes nothing (a refresh with the wrong client, a lookup inside a
 * transaction) must not fail for a change it never saw: the refused change was rolled back, so it reads the committed
 * records only and succeeds at once; the store's probe makes it healthy again once the disk works.
 */
class ReadAfterFailureTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aTransactionThatChangesNothingAfterAFailureSucceedsWithoutTheRefusedChange() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        FileStore.Tuning fast = new FileStore.Tuning();
        fast.probeMillis = 50;
        String token;
        try (FileStore store = FileStore.open(dir, ops, fast)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), Duration.ofDays(1));
            token = tokens.create("client", "alice", "mcp", null, true, NOW).refreshToken();
            ops.hook = (op, p) -> {
                if (op == RecordingFileOps.Op.FORCE_DATA || op == RecordingFileOps.Op.WRITE_AND_SYNC) {
                    throw new IOException("injected: Input/output error");
                }
            };
            assertThrows(StoreException.class, () -> tokens.create("client", "bob", "mcp", null, true, NOW));
            assertFalse(store.healthy());

            // changes nothing and saw nothing pending: answers at once, even while the disk still fails
            RefreshTokens.Rotation r = tokens.rotate(token, "other-client", NOW, f -> { });
            assertEquals(RefreshTokens.Outcome.WRONG_CLIENT, r.outcome());
            assertEquals(1, tokens.size(), "bob's refused family is not there");
            ops.hook = (op, p) -> { };
            Await.until(Duration.ofSeconds(10), store::healthy, () -> "the probe did not make the store healthy again: " + store.health());
        }
        try (FileStore store = FileStore.open(dir)) {
            RefreshTokens tokens = new RefreshTokens(FileStores.grants(store), Duration.ofDays(1));
            assertEquals(1, tokens.size(), "the refused change was never written");
            assertNotNull(tokens.find(token, NOW));
        }
    }
}
