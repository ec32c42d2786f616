package io.mcpoauth.store.postgres;

import io.mcpoauth.store.GrantModelContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seeded model test of rotate / revoke / sweep / restart over PostgreSQL (PG_TEST_URL). */
class PgGrantModelTest extends GrantModelContract {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @Override
    protected Stores open(Path dir) {
        return PG.open(dir, io.mcpoauth.store.StoreContract.MAX_BROWSER_SESSIONS);
    }
}
