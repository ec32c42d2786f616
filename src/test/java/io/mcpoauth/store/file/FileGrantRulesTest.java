package io.mcpoauth.store.file;

import io.mcpoauth.store.GrantRulesContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The refresh-token rules over the JSON files of a data directory. */
class FileGrantRulesTest extends GrantRulesContract {
    @Override
    protected Stores open(Path dir) {
        return FileStores.open(dir).awaitLoaded();
    }
}
