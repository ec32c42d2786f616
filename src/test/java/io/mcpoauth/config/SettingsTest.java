package io.mcpoauth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SettingsTest {
    @TempDir
    Path dir;

    @Test
    void defaults() {
        Settings s = Settings.from(Map.of());
        assertEquals(8000, s.port);
        assertEquals("127.0.0.1", s.host);
        assertEquals("http://localhost:8000", s.issuer);
        assertEquals("http://localhost:8000/mcp", s.mcpResource());
        assertEquals(Path.of(".oauth_data"), s.dataDir);
        assertEquals(Duration.ofSeconds(3600), s.accessTokenTtl);
        assertEquals(Duration.ofSeconds(2_592_000), s.refreshTokenTtl);
        assertEquals(Duration.ofSeconds(600), s.authCodeTtl);
        assertEquals(Duration.ofSeconds(300), s.cleanupInterval);
        assertEquals(Duration.ofSeconds(604_800), s.unusedClientTtl);
        assertEquals("local", s.authProvider);
        assertEquals("info", s.logLevel);
        assertEquals(List.of("mcp"), List.copyOf(s.scopes));
        assertEquals(null, s.adminToken);
    }

    @Test
    void publicUrlDefaultFollowsPortAndLosesTrailingSlash() {
        assertEquals("http://localhost:9000", Settings.from(Map.of("PORT", "9000")).issuer);
        assertEquals("https://mcp.example.com", Settings.from(Map.of("PUBLIC_URL", "https://mcp.example.com/")).issuer);
        assertTrue(Settings.from(Map.of("PUBLIC_URL", "https://mcp.example.com")).httpsPublicUrl());
    }

    /** Every bad value stops the start with one line: the variable, the value and what is allowed. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "OAUTH_ACCESS_TOKEN_TTL|abc|OAUTH_ACCESS_TOKEN_TTL=abc: expected whole seconds between 60 and 86400",
        "OAUTH_ACCESS_TOKEN_TTL|59|OAUTH_ACCESS_TOKEN_TTL=59: expected whole seconds between 60 and 86400",
        "OAUTH_REFRESH_TOKEN_TTL|-1|OAUTH_REFRESH_TOKEN_TTL=-1: expected whole seconds between 3600 and 63072000",
        "OAUTH_AUTH_CODE_TTL|601|OAUTH_AUTH_CODE_TTL=601: expected whole seconds between 10 and 600",
        "OAUTH_CLEANUP_INTERVAL|0|OAUTH_CLEANUP_INTERVAL=0: expected whole seconds between 1 and 86400",
        "OAUTH_UNUSED_CLIENT_TTL|1.5|OAUTH_UNUSED_CLIENT_TTL=1.5: expected whole seconds between 60 and 315360000",
        "PORT|http|PORT=http: expected a TCP port between 0 and 65535",
        "PORT|70000|PORT=70000: expected a TCP port between 0 and 65535",
        "PUBLIC_URL|ftp://x|PUBLIC_URL=ftp://x: expected an absolute http or https URL without query or fragment, e.g. https://mcp.example.com",
        "PUBLIC_URL|https://x/?a=b|PUBLIC_URL=https://x/?a=b: expected an absolute http or https URL without query or fragment, e.g. https://mcp.example.com",
        "AUTH_PROVIDER|ldap|AUTH_PROVIDER=ldap: expected one of local, google, azure, github, oidc",
        "LOG_LEVEL|loud|LOG_LEVEL=loud: expected one of error, warn, info, debug, trace",
        "CIMD_ALLOW_PRIVATE_ADDRESSES|maybe|CIMD_ALLOW_PRIVATE_ADDRESSES=maybe: expected true or false",
        "REGISTRATION_RATE_LIMIT|0|REGISTRATION_RATE_LIMIT=0: expected registrations per address per minute, 1 or more",
        "MAX_CLIENTS|lots|MAX_CLIENTS=lots: expected a number of clients, 1 or more",
        "OAUTH_DEFAULT_SCOPES|admin|OAUTH_DEFAULT_SCOPES=admin: expected scopes listed in OAUTH_SCOPES (mcp)",
        "STORE|mysql|STORE=mysql: expected one of file, postgres",
        "DATABASE_POOL_SIZE|0|DATABASE_POOL_SIZE=0: expected a number of connections between 1 and 200",
        "DATABASE_URL|mysql://u:secret@h/db|DATABASE_URL=mysql://u:***@h/db: expected postgresql://user@host:port/database",
    })
    void badValuesAreNamedWithWhatIsAllowed(String name, String value, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.from(Map.of(name, value)));
        assertEquals(message, e.getMessage());
        assertEquals(0, e.getStackTrace().length, "no stack trace is captured");
    }

    @Test
    void thePostgresStoreNeedsADatabaseUrl() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.from(Map.of("STORE", "postgres")));
        assertTrue(e.getMessage().startsWith("STORE=postgres needs DATABASE_URL"), e.getMessage());
        Settings s = Settings.from(Map.of("STORE", "POSTGRES", "DATABASE_URL", "postgresql://mcp@db:5432/oauth", "DATABASE_PASSWORD", "pw"));
        assertEquals("postgres", s.store);
        assertEquals("pw", s.databasePassword);
        assertEquals(10, s.databasePoolSize);
        assertEquals("file", Settings.from(Map.of()).store);
        assertFalse(Settings.from(Map.of("DATABASE_URL", "postgresql://u:secret@db/oauth")).toString().contains("secret"));
    }

    @Test
    void secretValuesAreNeverPrinted() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.from(Map.of("ADMIN_TOKEN", "short-secret-value")));
        assertFalse(e.getMessage().contains("short-secret-value"), e.getMessage());
        assertTrue(e.getMessage().startsWith("ADMIN_TOKEN: too short"), e.getMessage());
    }

    @Test
    void dotEnvIsReadAndTheEnvironmentWins() throws IOException {
        Path env = dir.resolve(".env");
        Files.writeString(env, "# comment\nexport PORT=9100\nLOG_LEVEL='debug'\nHOST=\"0.0.0.0\" \nOAUTH_SCOPES=mcp extra # trailing\n\n");
        Map<String, String> merged = Env.load(Map.of("PORT", "9200"), env);
        Settings s = Settings.from(merged);
        assertEquals(9200, s.port);
        assertEquals("debug", s.logLevel);
        assertEquals("0.0.0.0", s.host);
        assertEquals(List.of("mcp", "extra"), List.copyOf(s.scopes));
    }

    @Test
    void malformedDotEnvLineIsNamed() throws IOException {
        Path env = dir.resolve(".env");
        Files.writeString(env, "PORT=1\nnot a setting\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Env.load(Map.of(), env));
        assertEquals(env + " line 2: expected KEY=VALUE", e.getMessage());
    }

    @Test
    void everySettingIsDeclaredOnceInOneModule() {
        assertEquals(List.of("server", "oauth", "login", "idp", "ops", "store", "gateway"), List.copyOf(Settings.MODULES.keySet()));
        assertEquals(Settings.ALL.size(), Settings.names().stream().distinct().count(), "no setting is declared twice");
        for (Settings.IdentityProvider p : Settings.IDENTITY_PROVIDERS) {
            assertTrue(Settings.IDP.containsAll(p.settings()), p.name() + "'s settings are in the idp module");
            assertEquals(p, Settings.identityProvider(p.name()));
        }
        assertEquals(null, Settings.identityProvider("local"));
    }

    @Test
    void authProviderAcceptsLocalAndEveryDeclaredIdentityProvider() {
        for (Settings.IdentityProvider p : Settings.IDENTITY_PROVIDERS) {
            assertEquals(p.name(), Settings.from(Map.of("AUTH_PROVIDER", p.name().toUpperCase(java.util.Locale.ROOT))).authProvider);
        }
    }

    @Test
    void onlyDeclaredSettingsCanBeReadAndUnsetOnesGiveTheirDefault() {
        Settings s = Settings.from(Map.of("UPSTREAM_SCOPES", "  a b  ", "NOT_A_SETTING", "x"));
        assertEquals("a b", s.value(Settings.UPSTREAM_SCOPES));
        assertEquals("common", s.value(Settings.AZURE_TENANT));
        assertEquals("", s.value(Settings.GOOGLE.clientSecret()));
        assertThrows(IllegalArgumentException.class, () -> s.value(Setting.of("NOT_A_SETTING", "", "undeclared")));
    }

    @Test
    void envExampleAndReadmeDocumentEverySetting() throws IOException {
        String example = Files.readString(Path.of(".env.example"));
        String readme = Files.readString(Path.of("README.md"));
        Map<String, String> missing = new HashMap<>();
        for (Setting s : Settings.ALL) {
            if (!example.contains(s.name() + "=") && !example.contains("# " + s.name() + "=")) missing.put(s.name(), ".env.example");
            if (!readme.contains("`" + s.name() + "`")) missing.put(s.name(), "README.md");
        }
        assertEquals(Map.of(), missing);
    }
}
