package io.mcpoauth.store.file;

import io.mcpoauth.store.GrantModelContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;

/** The seeded model test of rotate / revoke / sweep / restart over the JSON files of a data directory. */
class FileGrantModelTest extends GrantModelContract {
    @Override
    protected Stores open(Path dir) {
        return FileStores.open(dir).awaitLoaded();
    }
}
