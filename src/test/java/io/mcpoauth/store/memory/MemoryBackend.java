package io.mcpoauth.store.memory;

import io.mcpoauth.store.StoreContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The memory backend for the contract suites: a "restart" opens new stores over the records kept for the same directory. */
final class MemoryBackend {
    private final Map<Path, MemoryStores.Data> data = new HashMap<>();

    synchronized Stores open(Path dir) {
        return new MemoryStores(data.computeIfAbsent(dir, d -> new MemoryStores.Data()), StoreContract.MAX_BROWSER_SESSIONS);
    }
}
