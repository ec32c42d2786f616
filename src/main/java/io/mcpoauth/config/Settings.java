package io.mcpoauth.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every setting of the server, validated once at start. A bad value stops the start with one line naming the
 * variable, the value (never for secrets) and what is allowed.
 */
public final class Settings {

    // ---- server: the listener, the public URL, logging, the admin token and the Host allow-list of /mcp ----
    public static final Setting PORT = Setting.of("PORT", "8000", "TCP port to listen on");
    public static final Setting HOST = Setting.of("HOST", "127.0.0.1", "address to bind; 0.0.0.0 for every interface");
    public static final Setting PUBLIC_URL = Setting.of("PUBLIC_URL", "http://localhost:<PORT>", "external base URL: the issuer and the base of every advertised URL");
    public static final Setting LOG_LEVEL = Setting.of("LOG_LEVEL", "info", "log level: error, warn, info, debug or trace");
    public static final Setting ADMIN_TOKEN = Setting.secret("ADMIN_TOKEN", "bearer token for /admin/api and introspection; admin API disabled when unset");
    public static final Setting ALLOWED_HOSTS = Setting.of("ALLOWED_HOSTS", "", "extra Host names accepted on /mcp besides the PUBLIC_URL host (comma-separated)");
    public static final Setting MAX_CONNECTIONS_PER_ADDRESS = Setting.of("MAX_CONNECTIONS_PER_ADDRESS", "64", "most open connections from one client address (IPv6 by /64); TRUSTED_PROXIES are exempt");
    public static final Setting REQUEST_BODY_TIMEOUT = Setting.of("REQUEST_BODY_TIMEOUT", "10", "seconds a client has to send a whole request body (1-300); 408 and the connection closed after that");
    public static final List<Setting> SERVER = List.of(PORT, HOST, PUBLIC_URL, LOG_LEVEL, ADMIN_TOKEN, ALLOWED_HOSTS, MAX_CONNECTIONS_PER_ADDRESS,
            REQUEST_BODY_TIMEOUT);

    // ---- oauth: tokens, codes, scopes and client registration ----
    public static final Setting OAUTH_ACCESS_TOKEN_TTL = Setting.of("OAUTH_ACCESS_TOKEN_TTL", "3600", "access token lifetime in seconds (60-86400)");
    public static final Setting OAUTH_REFRESH_TOKEN_TTL = Setting.of("OAUTH_REFRESH_TOKEN_TTL", "2592000", "refresh token lifetime in seconds, sliding: each rotation starts a new period");
    public static final Setting OAUTH_REFRESH_GRACE = Setting.of("OAUTH_REFRESH_GRACE", "120", "seconds after a rotation during which the replaced refresh token may be retried once (a lost response)");
    public static final Setting OAUTH_AUTH_CODE_TTL = Setting.of("OAUTH_AUTH_CODE_TTL", "600", "authorization code lifetime in seconds (10-600)");
    public static final Setting OAUTH_UNUSED_CLIENT_TTL = Setting.of("OAUTH_UNUSED_CLIENT_TTL", "604800", "seconds after which a client that never completed a grant is removed");
    public static final Setting OAUTH_SCOPES = Setting.of("OAUTH_SCOPES", "mcp", "space-separated scopes this server supports");
    public static final Setting OAUTH_DEFAULT_SCOPES = Setting.of("OAUTH_DEFAULT_SCOPES", "mcp", "scopes granted when a client asks for none");
    public static final Setting REGISTRATION_RATE_LIMIT = Setting.of("REGISTRATION_RATE_LIMIT", "30", "client registrations allowed per address per minute");
    public static final Setting MAX_CLIENTS = Setting.of("MAX_CLIENTS", "10000", "most registered clients kept; registration answers 503 beyond it");
    public static final Setting CIMD_ALLOW_PRIVATE_ADDRESSES = Setting.of("CIMD_ALLOW_PRIVATE_ADDRESSES", "false", "fetch client metadata documents from private and loopback addresses (tests only)");
    public static final Setting IDENTITY_JWT_TTL = Setting.of("IDENTITY_JWT_TTL", "300", "lifetime in seconds (10-300) of the identity assertions (JWTs) sent to upstream MCP servers with \"identity\": \"jwt\"");
    public static final Setting IDENTITY_JWT_KEY_ROTATION = Setting.of("IDENTITY_JWT_KEY_ROTATION", "2592000", "seconds each identity-assertion signing key is used before the next one (3600 or more)");
    public static final Setting IDENTITY_JWT_KEY_GRACE = Setting.of("IDENTITY_JWT_KEY_GRACE", "86400", "seconds the previous signing key stays in /.well-known/jwks.json after a rotation, and the next one before it (at least IDENTITY_JWT_TTL, less than half the rotation)");
    public static final List<Setting> OAUTH = List.of(OAUTH_ACCESS_TOKEN_TTL, OAUTH_REFRESH_TOKEN_TTL, OAUTH_REFRESH_GRACE, OAUTH_AUTH_CODE_TTL, OAUTH_UNUSED_CLIENT_TTL,
            OAUTH_SCOPES, OAUTH_DEFAULT_SCOPES, REGISTRATION_RATE_LIMIT, MAX_CLIENTS, CIMD_ALLOW_PRIVATE_ADDRESSES, IDENTITY_JWT_TTL,
            IDENTITY_JWT_KEY_ROTATION, IDENTITY_JWT_KEY_GRACE);

    // ---- login: how users sign in ----
    public static final Setting AUTH_PROVIDER = Setting.of("AUTH_PROVIDER", "local", "how users sign in: local, google, azure, github or oidc");
    public static final Setting MAX_BROWSER_SESSIONS = Setting.of("MAX_BROWSER_SESSIONS", "100000", "most browser sessions, and most pending authorizations, kept (in memory, or in the database with STORE=postgres); the oldest anonymous ones make room");
    public static final List<Setting> LOGIN = List.of(AUTH_PROVIDER, MAX_BROWSER_SESSIONS);

    // ---- idp: upstream sign-in (AUTH_PROVIDER=google|azure|github|oidc); read by io.mcpoauth.idp.IdpConfig ----
    /** Google: an OAuth client from Google Cloud Console. */
    public static final IdentityProvider GOOGLE = new IdentityProvider("google",
            Setting.of("GOOGLE_CLIENT_ID", "", "AUTH_PROVIDER=google: OAuth client id from Google Cloud Console (APIs & Services > Credentials)"),
            Setting.secret("GOOGLE_CLIENT_SECRET", "AUTH_PROVIDER=google: that client's secret (used only towards Google's token endpoint)"),
            true, List.of());
    public static final Setting AZURE_TENANT = Setting.of("AZURE_TENANT", "common", "AUTH_PROVIDER=azure: tenant id or domain; common, organizations or consumers for multi-tenant apps");
    /** Microsoft Entra ID: an app registration, in one tenant or several. */
    public static final IdentityProvider AZURE = new IdentityProvider("azure",
            Setting.of("AZURE_CLIENT_ID", "", "AUTH_PROVIDER=azure: application (client) id of the Microsoft Entra app registration"),
            Setting.secret("AZURE_CLIENT_SECRET", "AUTH_PROVIDER=azure: a client secret of that app registration"),
            true, List.of(AZURE_TENANT));
    /** GitHub: an OAuth app or GitHub App. */
    public static final IdentityProvider GITHUB = new IdentityProvider("github",
            Setting.of("GITHUB_CLIENT_ID", "", "AUTH_PROVIDER=github: client id of the GitHub OAuth app (or GitHub App)"),
            Setting.secret("GITHUB_CLIENT_SECRET", "AUTH_PROVIDER=github: that app's client secret"),
            true, List.of());
    public static final Setting OIDC_ISSUER = Setting.of("OIDC_ISSUER", "", "AUTH_PROVIDER=oidc: issuer URL; <OIDC_ISSUER>/.well-known/openid-configuration is read at start");
    /** Any OpenID Connect provider, found through its discovery document; the secret is optional (public client with PKCE). */
    public static final IdentityProvider OIDC = new IdentityProvider("oidc",
            Setting.of("OIDC_CLIENT_ID", "", "AUTH_PROVIDER=oidc: client id registered at that provider"),
            Setting.secret("OIDC_CLIENT_SECRET", "AUTH_PROVIDER=oidc: that client's secret (leave unset for a public client; PKCE is used)"),
            false, List.of(OIDC_ISSUER));
    /** Every identity provider, in the order AUTH_PROVIDER lists them after {@code local}. */
    public static final List<IdentityProvider> IDENTITY_PROVIDERS = List.of(GOOGLE, AZURE, GITHUB, OIDC);
    public static final Setting UPSTREAM_SCOPES = Setting.of("UPSTREAM_SCOPES", "", "extra scopes asked from the upstream provider for tools (space-separated), e.g. https://www.googleapis.com/auth/drive.readonly");
    public static final Setting ALLOWED_EMAILS = Setting.of("ALLOWED_EMAILS", "", "upstream sign-in: only these verified e-mail addresses may sign in (comma-separated; empty = no list)");
    public static final Setting ALLOWED_DOMAINS = Setting.of("ALLOWED_DOMAINS", "", "upstream sign-in: only verified e-mail addresses in these domains may sign in (comma-separated; empty = no list)");
    public static final Setting ENCRYPTION_KEY = Setting.secret("ENCRYPTION_KEY", "key for stored upstream tokens: 32 random bytes in base64 (openssl rand -base64 32); unset: generated once into <OAUTH_DATA_DIR>/encryption.key");
    public static final Setting UPSTREAM_TIMEOUT = Setting.of("UPSTREAM_TIMEOUT", "10", "seconds allowed for each call to the upstream provider (1-120)");
    public static final Setting UPSTREAM_TEST_BASE_URL = Setting.of("UPSTREAM_TEST_BASE_URL", "", "tests only: serve the google, azure and github endpoints from this fake provider; never set in production");
    /** The identity providers' own settings, then those every provider shares. */
    public static final List<Setting> IDP = idpSettings(UPSTREAM_SCOPES, ALLOWED_EMAILS, ALLOWED_DOMAINS, ENCRYPTION_KEY, UPSTREAM_TIMEOUT, UPSTREAM_TEST_BASE_URL);

    // ---- ops: TLS, client addresses behind proxies, the audit log ----
    public static final Setting TLS_KEYSTORE = Setting.of("TLS_KEYSTORE", "", "PKCS12 file with the certificate and private key: serve HTTPS directly on PORT (unset: plain HTTP)");
    public static final Setting TLS_KEYSTORE_PASSWORD = Setting.secret("TLS_KEYSTORE_PASSWORD", "password of TLS_KEYSTORE (and of its key)");
    public static final Setting TRUSTED_PROXIES = Setting.of("TRUSTED_PROXIES", "", "reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client for rate limits and the audit log");
    public static final Setting AUDIT_LOG = Setting.of("AUDIT_LOG", "", "file the audit log (one JSON line per security event) is appended to; unset: the 'audit' logger on standard error");
    public static final List<Setting> OPS = List.of(TLS_KEYSTORE, TLS_KEYSTORE_PASSWORD, TRUSTED_PROXIES, AUDIT_LOG);

    // ---- store: where everything is kept (a data directory or PostgreSQL) and the sweeps ----
    public static final Setting STORE_BACKEND = Setting.of("STORE", "file", "where everything is kept: file (the data directory, one instance) or postgres (DATABASE_URL, any number of instances)");
    public static final Setting OAUTH_DATA_DIR = Setting.of("OAUTH_DATA_DIR", ".oauth_data", "STORE=file: directory for clients, refresh tokens, users and consents");
    public static final Setting DATABASE_URL = Setting.of("DATABASE_URL", "", "STORE=postgres: postgresql://user[:password]@host[:port]/database[?sslmode=verify-full&sslrootcert=...&currentSchema=...]");
    public static final Setting DATABASE_PASSWORD = Setting.secret("DATABASE_PASSWORD", "STORE=postgres: the database password, when DATABASE_URL does not hold it (like PGPASSWORD)");
    public static final Setting DATABASE_POOL_SIZE = Setting.of("DATABASE_POOL_SIZE", "10", "STORE=postgres: most database connections this instance holds (1-200)");
    public static final Setting OAUTH_CLEANUP_INTERVAL = Setting.of("OAUTH_CLEANUP_INTERVAL", "300", "seconds between sweeps of expired entries (with several instances, one of them sweeps at a time)");
    public static final List<Setting> STORE = List.of(STORE_BACKEND, OAUTH_DATA_DIR, DATABASE_URL, DATABASE_PASSWORD, DATABASE_POOL_SIZE, OAUTH_CLEANUP_INTERVAL);

    // ---- gateway: the upstream MCP servers fronted at /mcp/NAME (read by io.mcpoauth.config.McpServers) ----
    public static final Setting MCP_SERVERS_FILE = Setting.of("MCP_SERVERS_FILE", "", "JSON file of the upstream MCP servers fronted at /mcp/NAME (unset: mcp-servers.json in the working directory when it exists)");
    public static final List<Setting> GATEWAY = List.of(MCP_SERVERS_FILE);

    /** The settings of each module, in documentation order. */
    public static final Map<String, List<Setting>> MODULES = modules();

    /** Every setting: the single table ({@code .env.example} and the README are checked against it). */
    public static final List<Setting> ALL = MODULES.values().stream().flatMap(List::stream).toList();

    /**
     * One identity provider's own settings: the {@code AUTH_PROVIDER} value that selects it, its client id, its client
     * secret (required unless {@code secretRequired} is false) and whatever else only it reads.
     */
    public record IdentityProvider(String name, Setting clientId, Setting clientSecret, boolean secretRequired, List<Setting> own) {
        public IdentityProvider {
            own = List.copyOf(own);
        }

        /** Client id, client secret, then its own settings. */
        public List<Setting> settings() {
            List<Setting> out = new ArrayList<>(List.of(clientId, clientSecret));
            out.addAll(own);
            return List.copyOf(out);
        }
    }

    /** The identity provider named {@code name} ({@code AUTH_PROVIDER}), or null ({@code local} or unknown). */
    public static IdentityProvider identityProvider(String name) {
        for (IdentityProvider p : IDENTITY_PROVIDERS) {
            if (p.name().equals(name)) return p;
        }
        return null;
    }

    private static List<Setting> idpSettings(Setting... shared) {
        List<Setting> out = new ArrayList<>();
        for (IdentityProvider p : IDENTITY_PROVIDERS) out.addAll(p.settings());
        out.addAll(List.of(shared));
        return List.copyOf(out);
    }

    private static Map<String, List<Setting>> modules() {
        Map<String, List<Setting>> m = new LinkedHashMap<>();
        m.put("server", SERVER);
        m.put("oauth", OAUTH);
        m.put("login", LOGIN);
        m.put("idp", IDP);
        m.put("ops", OPS);
        m.put("store", STORE);
        m.put("gateway", GATEWAY);
        return Collections.unmodifiableMap(m);
    }

    public final int port;
    public final String host;
    public final URI publicUrl;
    /** The issuer string: {@code PUBLIC_URL} without a trailing slash. */
    public final String issuer;
    public final Path dataDir;
    /** {@code STORE}: {@code file} or {@code postgres}. */
    public final String store;
    /** {@code DATABASE_URL} (STORE=postgres), or "". Parsed by the PostgreSQL store, which names what is wrong with it. */
    public final String databaseUrl;
    /** {@code DATABASE_PASSWORD}, or null. */
    public final String databasePassword;
    public final int databasePoolSize;
    public final Duration accessTokenTtl;
    public final Duration refreshTokenTtl;
    public final Duration refreshGrace;
    public final Duration authCodeTtl;
    public final Duration cleanupInterval;
    public final Duration unusedClientTtl;
    /** Identity assertions to upstream servers: lifetime, key rotation period, and the grace around a rotation. */
    public final Duration identityJwtTtl;
    public final Duration identityJwtKeyRotation;
    public final Duration identityJwtKeyGrace;
    public final Set<String> scopes;
    public final Set<String> defaultScopes;
    public final int registrationRateLimit;
    public final int maxClients;
    public final int maxBrowserSessions;
    public final int maxConnectionsPerAddress;
    public final Duration requestBodyTimeout;
    public final boolean cimdAllowPrivateAddresses;
    public final String authProvider;
    public final String logLevel;
    public final String adminToken;
    public final List<String> allowedHosts;
    /** {@code TLS_KEYSTORE}, or null for plain HTTP. */
    public final Path tlsKeystore;
    public final String tlsKeystorePassword;
    public final List<io.mcpoauth.core.Cidr> trustedProxies;
    /** {@code AUDIT_LOG}, or null for the {@code audit} logger. */
    public final Path auditLog;
    /** The servers file ({@code MCP_SERVERS_FILE}) as last loaded; {@link McpServers#NONE} when there is none. */
    private volatile McpServers mcpServers;
    private final Map<String, String> raw;

    private Settings(Map<String, String> raw) {
        this.raw = raw;
        port = integer(PORT, 0, 65535, "a TCP port between 0 and 65535");
        host = text(HOST);
        if (host.isBlank()) throw bad(HOST, host, "an address such as 127.0.0.1 or 0.0.0.0");
        tlsKeystore = text(TLS_KEYSTORE).isEmpty() ? null : Path.of(text(TLS_KEYSTORE));
        tlsKeystorePassword = text(TLS_KEYSTORE_PASSWORD);
        String defaultUrl = (tlsKeystore == null ? "http" : "https") + "://localhost:" + port;
        String url = configured(PUBLIC_URL.name(), defaultUrl);
        publicUrl = parsePublicUrl(url);
        issuer = stripSlash(publicUrl.toString());
        dataDir = Path.of(text(OAUTH_DATA_DIR).isBlank() ? ".oauth_data" : text(OAUTH_DATA_DIR));
        store = oneOf(STORE_BACKEND, List.of("file", "postgres"));
        databaseUrl = text(DATABASE_URL);
        if (store.equals("postgres") && databaseUrl.isEmpty()) {
            throw new ConfigException("STORE=postgres needs DATABASE_URL, e.g. postgresql://mcp@db.example:5432/mcp_oauth?sslmode=verify-full");
        }
        if (!databaseUrl.isEmpty() && !databaseUrl.startsWith("postgresql://") && !databaseUrl.startsWith("postgres://")) {
            throw new ConfigException("DATABASE_URL=" + redactedUrl(databaseUrl) + ": expected postgresql://user@host:port/database");
        }
        databasePassword = text(DATABASE_PASSWORD).isEmpty() ? null : text(DATABASE_PASSWORD);
        databasePoolSize = integer(DATABASE_POOL_SIZE, 1, 200, "a number of connections between 1 and 200");
        accessTokenTtl = seconds(OAUTH_ACCESS_TOKEN_TTL, 60, 86_400);
        refreshTokenTtl = seconds(OAUTH_REFRESH_TOKEN_TTL, 3_600, 31_536_000L * 2);
        refreshGrace = seconds(OAUTH_REFRESH_GRACE, 0, 3_600);
        authCodeTtl = seconds(OAUTH_AUTH_CODE_TTL, 10, 600);
        cleanupInterval = seconds(OAUTH_CLEANUP_INTERVAL, 1, 86_400);
        unusedClientTtl = seconds(OAUTH_UNUSED_CLIENT_TTL, 60, 31_536_000L * 10);
        identityJwtTtl = seconds(IDENTITY_JWT_TTL, 10, 300);
        identityJwtKeyRotation = seconds(IDENTITY_JWT_KEY_ROTATION, 3_600, 31_536_000L * 10);
        identityJwtKeyGrace = seconds(IDENTITY_JWT_KEY_GRACE, 10, 31_536_000L * 5);
        if (identityJwtKeyGrace.compareTo(identityJwtTtl) < 0 || identityJwtKeyGrace.multipliedBy(2).compareTo(identityJwtKeyRotation) >= 0) {
            throw bad(IDENTITY_JWT_KEY_GRACE, text(IDENTITY_JWT_KEY_GRACE), "at least IDENTITY_JWT_TTL (" + identityJwtTtl.toSeconds()
                    + ") and less than half of IDENTITY_JWT_KEY_ROTATION (" + identityJwtKeyRotation.toSeconds() + ")");
        }
        scopes = scopeSet(OAUTH_SCOPES);
        if (scopes.isEmpty()) throw bad(OAUTH_SCOPES, "", "at least one scope, e.g. mcp");
        defaultScopes = scopeSet(OAUTH_DEFAULT_SCOPES);
        if (!scopes.containsAll(defaultScopes)) {
            throw bad(OAUTH_DEFAULT_SCOPES, text(OAUTH_DEFAULT_SCOPES), "scopes listed in OAUTH_SCOPES (" + String.join(" ", scopes) + ")");
        }
        registrationRateLimit = integer(REGISTRATION_RATE_LIMIT, 1, 1_000_000, "registrations per address per minute, 1 or more");
        maxClients = integer(MAX_CLIENTS, 1, 10_000_000, "a number of clients, 1 or more");
        maxBrowserSessions = integer(MAX_BROWSER_SESSIONS, 10, 10_000_000, "a number of sessions, 10 or more");
        maxConnectionsPerAddress = integer(MAX_CONNECTIONS_PER_ADDRESS, 1, 1_000_000, "a number of connections, 1 or more");
        requestBodyTimeout = seconds(REQUEST_BODY_TIMEOUT, 1, 300);
        cimdAllowPrivateAddresses = bool(CIMD_ALLOW_PRIVATE_ADDRESSES);
        List<String> providers = new ArrayList<>(List.of("local"));
        for (IdentityProvider p : IDENTITY_PROVIDERS) providers.add(p.name());
        authProvider = oneOf(AUTH_PROVIDER, providers);
        logLevel = oneOf(LOG_LEVEL, List.of("error", "warn", "info", "debug", "trace"));
        String admin = text(ADMIN_TOKEN);
        if (!admin.isEmpty() && admin.length() < 32) {
            throw new ConfigException("ADMIN_TOKEN: too short (" + admin.length() + " characters): expected at least 32 random characters, e.g. from `openssl rand -hex 32`");
        }
        adminToken = admin.isEmpty() ? null : admin;
        allowedHosts = list(ALLOWED_HOSTS);
        try {
            trustedProxies = io.mcpoauth.core.Cidr.parseList(text(TRUSTED_PROXIES));
        } catch (IllegalArgumentException e) {
            throw bad(TRUSTED_PROXIES, text(TRUSTED_PROXIES), "IP addresses or CIDR ranges, comma-separated, e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8 ("
                    + e.getMessage() + ")");
        }
        auditLog = text(AUDIT_LOG).isEmpty() ? null : Path.of(text(AUDIT_LOG));
        mcpServers = McpServers.load(text(MCP_SERVERS_FILE), raw::get, scopes);
    }

    /** Reads and validates every setting; throws {@link ConfigException} with one clear line on the first bad value. */
    public static Settings from(Map<String, String> raw) {
        return new Settings(Map.copyOf(raw));
    }

    /** The environment merged over {@code .env} in the working directory. */
    public static Settings fromEnvironment() {
        return from(Env.load(System.getenv(), Path.of(".env")));
    }

    /**
     * The value of a setting declared in the table ({@link #ALL}), stripped; its default when unset or blank ("" when it
     * has none). For settings a module validates itself (the identity providers' ones, see
     * {@code io.mcpoauth.idp.IdpConfig}). A setting not in the table is a programming error.
     */
    public String value(Setting setting) {
        if (!ALL.contains(setting)) throw new IllegalArgumentException("undeclared setting " + setting.name());
        return text(setting);
    }

    /**
     * A variable of the environment (or {@code .env}) that a configuration file names as {@code ${NAME}} (e.g. a
     * connection's client secret); null when unset or blank.
     */
    public String variable(String name) {
        String v = raw.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    /** The servers file ({@code MCP_SERVERS_FILE}) in use: as read at start, or at the last successful reload. */
    public McpServers mcpServers() {
        return mcpServers;
    }

    /**
     * Reads and validates the servers file again (the one in use, with the variables of the start), without using it.
     *
     * @throws ConfigException one line per mistake, as at start
     */
    public McpServers readMcpServers() {
        McpServers current = mcpServers;
        return McpServers.load(current.source() != null ? current.source().toString() : text(MCP_SERVERS_FILE), raw::get, scopes);
    }

    /** Puts a servers file read by {@link #readMcpServers} in use (the gateway's reload, after it took it). */
    public void useMcpServers(McpServers servers) {
        this.mcpServers = java.util.Objects.requireNonNull(servers);
    }

    /** The MCP resource identifier: {@code <PUBLIC_URL>/mcp}. */
    public String mcpResource() {
        return issuer + "/mcp";
    }

    /** The resource identifier of the upstream server {@code name}: {@code <PUBLIC_URL>/mcp/NAME}. */
    public String mcpResource(String name) {
        return issuer + "/mcp/" + name;
    }

    /** Every resource we issue tokens for: {@code /mcp}, then {@code /mcp/NAME} for each server of the servers file. */
    public List<String> mcpResources() {
        List<String> out = new ArrayList<>(List.of(mcpResource()));
        for (String name : mcpServers().servers().keySet()) out.add(mcpResource(name));
        return List.copyOf(out);
    }

    /** An absolute URL under {@code PUBLIC_URL}; {@code path} starts with '/'. */
    public String url(String path) {
        return issuer + path;
    }

    public boolean httpsPublicUrl() {
        return "https".equals(publicUrl.getScheme());
    }

    // ---- parsing helpers ----

    private String configured(String name, String fallback) {
        String v = raw.get(name);
        if (v == null || v.isBlank()) return fallback;
        return v.strip();
    }

    private String text(Setting setting) {
        return configured(setting.name(), setting.defaultValue() == null ? "" : setting.defaultValue());
    }

    private ConfigException bad(Setting setting, String value, String allowed) {
        return bad(setting.name(), setting.secret(), value, allowed);
    }

    private static ConfigException bad(String name, boolean secret, String value, String allowed) {
        return new ConfigException(name + "=" + (secret ? "<hidden>" : value) + ": expected " + allowed);
    }

    private int integer(Setting setting, int min, int max, String allowed) {
        String v = text(setting);
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) throw bad(setting, v, allowed);
            return (int) n;
        } catch (NumberFormatException e) {
            throw bad(setting, v, allowed);
        }
    }

    private Duration seconds(Setting setting, long min, long max) {
        String v = text(setting);
        String allowed = "whole seconds between " + min + " and " + max;
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) throw bad(setting, v, allowed);
            return Duration.ofSeconds(n);
        } catch (NumberFormatException e) {
            throw bad(setting, v, allowed);
        }
    }

    private boolean bool(Setting setting) {
        String v = text(setting).toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off", "" -> false;
            default -> throw bad(setting, v, "true or false");
        };
    }

    private String oneOf(Setting setting, List<String> allowed) {
        String v = text(setting).toLowerCase(Locale.ROOT);
        if (!allowed.contains(v)) throw bad(setting, text(setting), "one of " + String.join(", ", allowed));
        return v;
    }

    private Set<String> scopeSet(Setting setting) {
        String v = text(setting);
        Set<String> out = new LinkedHashSet<>();
        for (String s : v.split("[\\s,]+")) {
            if (s.isEmpty()) continue;
            if (!s.matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]+")) throw bad(setting, v, "space-separated scope tokens without quotes or backslashes");
            out.add(s);
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    private List<String> list(Setting setting) {
        List<String> out = new ArrayList<>();
        for (String s : text(setting).split(",")) {
            if (!s.isBlank()) out.add(s.strip());
        }
        return List.copyOf(out);
    }

    private URI parsePublicUrl(String url) {
        String allowed = "an absolute http or https URL without query or fragment, e.g. https://mcp.example.com";
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw bad(PUBLIC_URL, url, allowed);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw bad(PUBLIC_URL, url, allowed);
        }
        return uri;
    }

    private static String stripSlash(String s) {
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return s;
    }

    /** A database URL with any password replaced by {@code ***}, for messages. */
    public static String redactedUrl(String url) {
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (scheme < 0 || at < scheme) return url;
        String userinfo = url.substring(scheme + 3, at);
        int colon = userinfo.indexOf(':');
        return colon < 0 ? url : url.substring(0, scheme + 3) + userinfo.substring(0, colon) + ":***" + url.substring(at);
    }

    /** Names of all settings, in documentation order. */
    public static List<String> names() {
        return ALL.stream().map(Setting::name).toList();
    }

    @Override
    public String toString() {
        return "Settings" + Arrays.toString(new Object[]{port, host, issuer, store, store.equals("postgres") ? redactedUrl(databaseUrl) : dataDir});
    }
}
