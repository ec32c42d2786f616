package io.mcpoauth.store.memory;

import io.mcpoauth.store.GrantRulesContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The refresh-token rules over the memory backend. */
class MemoryGrantRulesTest extends GrantRulesContract {
    private final MemoryBackend backend = new MemoryBackend();

    @Override
    protected Stores open(Path dir) {
        return backend.open(dir);
    }

    @Override
    protected boolean writesFiles() {
        return false;
    }
}
