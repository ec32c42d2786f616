package io.mcpoauth.store.postgres;

import io.mcpoauth.store.StoreContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The storage contract over PostgreSQL (PG_TEST_URL), a schema of its own per test. */
class PgStoresContractTest extends StoreContract {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @Override
    protected Stores open(Path dir) {
        return PG.open(dir, MAX_BROWSER_SESSIONS);
    }
}
