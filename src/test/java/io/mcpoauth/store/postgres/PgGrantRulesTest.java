package io.mcpoauth.store.postgres;

import io.mcpoauth.store.GrantRulesContract;
import io.mcpoauth.store.Stores;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The refresh-token rules over PostgreSQL (PG_TEST_URL), a schema of its own per test. */
class PgGrantRulesTest extends GrantRulesContract {
    @RegisterExtension
    static final PgTestDatabase PG = new PgTestDatabase();

    @Override
    protected Stores open(Path dir) {
        return PG.open(dir, io.mcpoauth.store.StoreContract.MAX_BROWSER_SESSIONS);
    }

    @Override
    protected boolean writesFiles() {
        return false;
    }
}
