package io.mcpoauth.store.memory;

import io.mcpoauth.store.StoreContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The storage contract over the memory backend. */
class MemoryStoresContractTest extends StoreContract {
    private final MemoryBackend backend = new MemoryBackend();

    @Override
    protected Stores open(Path dir) {
        return backend.open(dir);
    }
}
