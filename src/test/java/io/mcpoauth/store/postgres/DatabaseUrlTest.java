package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.config.ConfigException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** DATABASE_URL in libpq's form, as the driver needs it: hosts and database in the JDBC URL, everything else in properties. */
class DatabaseUrlTest {
    @Test
    void theUserPasswordAndParametersGoToPropertiesNeverIntoTheUrl() {
        DatabaseUrl u = DatabaseUrl.parse("postgresql://u:p%40ss%2Bw+rd@db.example:6543/oauth?sslmode=verify-full&sslrootcert=/etc/ca.pem", null);
        assertEquals("jdbc:postgresql://db.example:6543/oauth", u.jdbcUrl());
        assertEquals("u", u.properties().getProperty("user"));
        assertEquals("p@ss+w+rd", u.properties().getProperty("password"), "percent-decoded, and + stays +");
        assertEquals("verify-full", u.properties().getProperty("sslmode"));
        assertEquals("/etc/ca.pem", u.properties().getProperty("sslrootcert"));
        assertEquals("postgresql://u:***@db.example:6543/oauth", u.redacted());
        assertFalse(u.toString().contains("p@ss"));
        assertEquals(DatabaseUrl.DEFAULT_SCHEMA, u.schema());
        assertEquals("10", u.properties().getProperty("socketTimeout"), "every wait is bounded by default");
        assertTrue(u.properties().getProperty("options").contains("statement_timeout=5000"));
    }

    @Test
    void libpqNamesAreMappedAndGivenOptionsAreKept() {
        DatabaseUrl u = DatabaseUrl.parse("postgres://a:b@c@[::1]:5433/my%20db?connect_timeout=3&application_name=x&target_session_attrs=read-write"
                + "&options=-c%20work_mem%3D8MB&currentSchema=oauth_2", null);
        assertEquals("jdbc:postgresql://[::1]:5433/my+db", u.jdbcUrl(), "the driver URL-decodes the database name");
        assertEquals("b@c", u.properties().getProperty("password"), "a password may hold an unencoded @");
        assertEquals("3", u.properties().getProperty("connectTimeout"));
        assertEquals("x", u.properties().getProperty("ApplicationName"));
        assertEquals("primary", u.properties().getProperty("targetServerType"));
        assertTrue(u.properties().getProperty("options").startsWith("-c work_mem=8MB -c statement_timeout="), u.properties().getProperty("options"));
        assertEquals("oauth_2", u.schema());
        assertEquals("jdbc:postgresql://h1:5432,h2:5433/db", DatabaseUrl.parse("postgresql://h1,h2:5433/db?user=bob", null).jdbcUrl());
    }

    @Test
    void thePasswordSettingIsUsedWhenTheUrlHasNone() {
        assertEquals("pw", DatabaseUrl.parse("postgresql://u@h/db", "pw").properties().getProperty("password"));
        assertEquals("inurl", DatabaseUrl.parse("postgresql://u:inurl@h/db", "pw").properties().getProperty("password"));
        assertEquals("postgresql://u:***@h:5432/db", DatabaseUrl.parse("postgresql://u@h/db", "pw").redacted());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "mysql://x@h/db|must start with postgresql://",
        "postgresql://x@h:99999/db|port '99999' is not a port number",
        "postgresql://x@h:5432/|names no database",
        "postgresql://x@/db|names no host",
        "postgresql://%2Fvar%2Frun%2Fpostgresql/db|names no host",
        "postgresql://x@h/db?sslmod=require|unknown parameter 'sslmod'",
        "postgresql://x@h/db?sslmode=on|sslmode=on",
        "postgresql://h/db|names no user",
        "postgresql://x@h/db%zz|bad %-escape",
        "postgresql://x@h/db?currentSchema=Drop;Table|currentSchema=Drop;Table",
    })
    void malformedUrlsAreRefusedWithTheReason(String url, String reason) {
        ConfigException e = assertThrows(ConfigException.class, () -> DatabaseUrl.parse(url, null));
        assertTrue(e.getMessage().startsWith("DATABASE_URL "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
