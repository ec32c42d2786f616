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

    /** Every row of every table of the test's schema, as JSON. */
    @Override
    protected String storedText(Path dir) {
        StringBuilder b = new StringBuilder();
        try (java.sql.Connection c = PgTestDatabase.connect(PG.urlFor(dir)); java.sql.Statement st = c.createStatement()) {
            for (String table : Schema.DATA_TABLES) {
                try (java.sql.ResultSet rs = st.executeQuery("SELECT row_to_json(t)::text FROM " + table + " t")) {
                    while (rs.next()) b.append(rs.getString(1)).append('\n');
                }
            }
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
        return b.toString();
    }
}
