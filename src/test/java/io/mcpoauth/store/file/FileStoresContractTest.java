package io.mcpoauth.store.file;

import io.mcpoauth.store.StoreContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The storage contract over the JSON files of a data directory. */
class FileStoresContractTest extends StoreContract {
    @Override
    protected Stores open(Path dir) {
        return FileStores.open(dir, MAX_BROWSER_SESSIONS).awaitLoaded();
    }
}
