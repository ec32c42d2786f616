package io.mcpoauth.store.memory;

import io.mcpoauth.store.GrantModelContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The seeded model test of rotate / revoke / sweep / restart over the memory backend. */
class MemoryGrantModelTest extends GrantModelContract {
    private final MemoryBackend backend = new MemoryBackend();

    @Override
    protected Stores open(Path dir) {
        return backend.open(dir);
    }
}
