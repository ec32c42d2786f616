package io.mcpoauth.store.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code store backup}: one instant for every open file, verified copies of the others, 0600 files in a new or empty directory. */
class BackupTest {
    @TempDir
    Path dir;

    static ClientRecord client(String id) {
        return new ClientRecord(id, "Client " + id, List.of("http://127.0.0.1:9/cb"), List.of("authorization_code", "refresh_token"),
                List.of("code"), "none", null, null, null, null, Instant.now(), null, null, null);
    }

    /** A writer always adds a client, then a grant for it; no backup may hold a grant whose client it lacks. */
    @Test
    void everyOpenFileIsCapturedAtOneInstant() throws Exception {
        try (FileStore store = FileStore.open(dir.resolve("data"))) {
            ClientStore clients = FileStores.clients(store);
            RefreshTokens grants = new RefreshTokens(FileStores.grants(store), Duration.ofDays(1));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        clients.put(client("c" + i));
                        grants.create("c" + i, "local:u", "mcp", "http://x/mcp", true, Instant.now());
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            writer.start();
            try {
                for (int n = 0; n < 15; n++) {
                    Path target = dir.resolve("bk-" + n);
                    Backup.Result r = store.backup(target);
                    Set<String> clientIds = keys(target.resolve(io.mcpoauth.store.file.FileStores.CLIENTS), "clients");
                    Set<String> clientsOfGrants = new HashSet<>();
                    for (JsonNode f : records(target.resolve(io.mcpoauth.store.file.FileStores.REFRESH_TOKENS), "refresh_tokens")) clientsOfGrants.add(f.get("client_id").asText());
                    assertTrue(clientIds.containsAll(clientsOfGrants), "backup " + n + " has a grant without its client");
                    assertTrue(clientIds.size() - clientsOfGrants.size() <= 1, "backup " + n + ": at most the one client between its two steps");
                    assertEquals(2, r.files().size());
                }
            } finally {
                stop.set(true);
                writer.join(30_000);
            }
            if (failed.get() != null) throw new AssertionError(failed.get());
        }
    }

    @Test
    void filesAre0600InANew0700DirectoryAndRestoreAsTheyWere() throws IOException {
        Path data = dir.resolve("data");
        Path target = dir.resolve("backups").resolve("today");
        try (FileStore store = FileStore.open(data)) {
            ClientStore clients = FileStores.clients(store);
            clients.put(client("a"));
            clients.put(client("b"));
            store.backup(target);
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        try (Stream<Path> files = Files.list(target)) {
            for (Path f : files.toList()) assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        Path restored = dir.resolve("restored");
        Files.createDirectories(restored);
        try (Stream<Path> files = Files.list(target)) {
            for (Path f : files.toList()) Files.copy(f, restored.resolve(f.getFileName()));
        }
        try (FileStore store = FileStore.open(restored)) {
            assertEquals(Set.of("a", "b"), new TreeSet<>(FileStores.clients(store).list().stream().map(ClientRecord::clientId).toList()));
        }
    }

    @Test
    void theTargetMustBeNewOrEmptyAndOutsideTheDataDirectory() throws IOException {
        Path data = dir.resolve("data");
        try (FileStore store = FileStore.open(data)) {
            FileStores.clients(store).put(client("a"));
            Path full = dir.resolve("full");
            Files.createDirectories(full);
            Files.writeString(full.resolve("something"), "x");
            StoreException e = assertThrows(StoreException.class, () -> store.backup(full));
            assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
            e = assertThrows(StoreException.class, () -> store.backup(data.resolve("inside")));
            assertTrue(e.getMessage().contains("must be outside the data directory"), e.getMessage());
            e = assertThrows(StoreException.class, () -> store.backup(full.resolve("something")));
            assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
            Path empty = dir.resolve("empty");
            Files.createDirectories(empty);
            assertEquals(1, store.backup(empty).files().size());
        }
    }

    /** With the server stopped nothing is open: the files are verified and copied as they are; companions are left out. */
    @Test
    void aStoppedStoreIsCopiedVerbatimWithoutCompanions() throws IOException {
        Path data = dir.resolve("data");
        try (FileStore store = FileStore.open(data)) {
            ClientStore clients = FileStores.clients(store);
            clients.put(client("a"));
            clients.put(client("b")); // makes clients.json.prev
        }
        Files.writeString(data.resolve("encryption.key"), "a-key");
        Files.writeString(data.resolve("clients.json.corrupt-20260101T000000Z"), "junk");
        Files.writeString(data.resolve(".admin-api.json"), "{}");
        byte[] original = Files.readAllBytes(data.resolve(io.mcpoauth.store.file.FileStores.CLIENTS));
        assertTrue(Files.exists(data.resolve("clients.json.prev")));

        Path target = dir.resolve("bk");
        try (FileStore store = FileStore.open(data)) {
            Backup.Result r = store.backup(target);
            assertEquals(List.of("clients.json"), r.files().stream().map(Backup.File::name).toList(), "the key is left out by default");
            assertTrue(r.keyLeftOut());
            assertEquals(2, r.files().get(0).records());
        }
        assertArrayEquals(original, Files.readAllBytes(target.resolve(io.mcpoauth.store.file.FileStores.CLIENTS)));
        try (Stream<Path> files = Files.list(target)) {
            assertEquals(Set.of("clients.json"), new TreeSet<>(files.map(p -> p.getFileName().toString()).toList()));
        }
        Path withKey = dir.resolve("bk-with-key");
        try (FileStore store = FileStore.open(data)) {
            Backup.Result r = store.backup(withKey, true);
            assertEquals(List.of("clients.json", "encryption.key"), r.files().stream().map(Backup.File::name).toList(), "asked for");
            assertFalse(r.keyLeftOut());
            assertEquals(-1, r.files().get(1).records());
        }
        assertEquals("a-key", Files.readString(withKey.resolve("encryption.key")));

        // a damaged file is not backed up as if it were fine: nothing is written
        Files.writeString(data.resolve("users.json"), "{ truncated");
        Path second = dir.resolve("bk2");
        try (FileStore store = FileStore.open(data)) {
            StoreException e = assertThrows(StoreException.class, () -> store.backup(second));
            assertTrue(e.getMessage().startsWith("users.json is damaged"), e.getMessage());
        }
        try (Stream<Path> files = Files.list(second)) {
            assertFalse(files.findAny().isPresent(), "nothing written");
        }
    }

    /** The backup directory and every directory created for it are durable: fsync of each parent after the files. */
    @Test
    void theParentOfEveryDirectoryTheBackupCreatesIsSynced() throws IOException {
        RecordingFileOps ops = new RecordingFileOps();
        try (FileStore store = FileStore.open(dir.resolve("data"), ops)) {
            FileStores.clients(store).put(client("c1"));
            ops.clear();
            Path target = dir.resolve("new/deeper/bk");
            store.backup(target);
            List<RecordingFileOps.Call> calls = ops.calls();
            int lastWrite = -1;
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).op() == RecordingFileOps.Op.WRITE_AND_SYNC && calls.get(i).a().startsWith(target)) lastWrite = i;
            }
            assertTrue(lastWrite >= 0, "the backup files went through the store's FileOps: " + calls);
            List<Path> synced = calls.subList(lastWrite + 1, calls.size()).stream()
                    .filter(c -> c.op() == RecordingFileOps.Op.SYNC_DIR).map(RecordingFileOps.Call::a).toList();
            assertEquals(List.of(target, target.getParent(), target.getParent().getParent(), dir), synced,
                    "the backup directory, then the parent of each directory created, innermost first");
        }
    }

    static Set<String> keys(Path file, String kind) throws IOException {
        Set<String> out = new TreeSet<>();
        for (Iterator<String> it = decode(file, kind).fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    static List<JsonNode> records(Path file, String kind) throws IOException {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = decode(file, kind).fields(); it.hasNext(); ) out.add(it.next().getValue());
        return out;
    }

    static JsonNode decode(Path file, String kind) throws IOException {
        try {
            return new SnapshotFormat().decode(Files.readAllBytes(file), kind).records();
        } catch (SnapshotFormat.Corrupt c) {
            throw new AssertionError(file + ": " + c.getMessage());
        }
    }
}
