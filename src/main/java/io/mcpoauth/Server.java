package io.mcpoauth;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.mcpoauth.admin.AdminModule;
import io.mcpoauth.admin.AdminService;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.McpServers;
import io.mcpoauth.config.Settings;
import io.mcpoauth.connect.ConnectEndpoints;
import io.mcpoauth.connect.ConnectionProviders;
import io.mcpoauth.connect.Connections;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.core.IdpAccess;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.core.Ticker;
import io.mcpoauth.http.Bodies;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.PageError;
import io.mcpoauth.http.Web;
import io.mcpoauth.idp.Idp;
import io.mcpoauth.login.AccountEndpoints;
import io.mcpoauth.login.AuthorizationFlow;
import io.mcpoauth.login.AuthorizeEndpoints;
import io.mcpoauth.login.BrowserSessions;
import io.mcpoauth.login.LocalAccounts;
import io.mcpoauth.login.Pages;
import io.mcpoauth.login.PasswordHasher;
import io.mcpoauth.login.PasswordSignIn;
import io.mcpoauth.oauth.AccessTokenVerifier;
import io.mcpoauth.oauth.AccessTokens;
import io.mcpoauth.oauth.ApiKeyAuthenticator;
import io.mcpoauth.oauth.ApiKeys;
import io.mcpoauth.oauth.AuthorizationCodes;
import io.mcpoauth.oauth.AuthorizeRequests;
import io.mcpoauth.oauth.ClientAuthentication;
import io.mcpoauth.oauth.ClientEndpoints;
import io.mcpoauth.oauth.ClientRegistry;
import io.mcpoauth.oauth.IdentityJwt;
import io.mcpoauth.oauth.Consents;
import io.mcpoauth.oauth.GrantLifecycle;
import io.mcpoauth.oauth.HttpClientIdMetadata;
import io.mcpoauth.oauth.MetadataEndpoints;
import io.mcpoauth.oauth.OAuthServices;
import io.mcpoauth.oauth.RefreshTokens;
import io.mcpoauth.oauth.TokenEndpoint;
import io.mcpoauth.ops.Metrics;
import io.mcpoauth.ops.Operations;
import io.mcpoauth.resource.McpEndpoint;
import io.mcpoauth.resource.gateway.Gateway;
import io.mcpoauth.resource.tools.BuiltInTools;
import io.mcpoauth.resource.tools.Notes;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.Sweeper;
import io.mcpoauth.store.TokenCipher;
import io.mcpoauth.store.UserStore;
import io.mcpoauth.store.file.EncryptionKeys;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.file.KeyFile;
import io.mcpoauth.store.postgres.EncryptionKey;
import io.mcpoauth.store.postgres.PgStores;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wiring: opens the store, builds every component and the HTTP app, and closes them in order. */
public final class Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);
    public final Settings settings;
    public final Clock clock;
    /** Monotonic time for rate limits and throttles (never the wall clock). */
    public final Ticker ticker;
    /** Where everything is kept (the backend chosen by {@code STORE}). */
    public final Stores stores;
    /** The data directory of the file backend; null with another backend. */
    public final FileStore files;
    public final ClientStore clients;
    public final RefreshTokens refreshTokens;
    public final UserStore users;
    public final Consents consents;
    public final Notes notes;
    /** Sign-in through an identity provider (providers, encrypted provider tokens); null with AUTH_PROVIDER=local. */
    public final Idp upstream;
    public final AccessTokens accessTokens;
    /** Every ending of a grant: revocations, removals and sweeps, with their audit events. */
    public final GrantLifecycle lifecycle;
    public final OAuthServices oauth;
    public final AuthorizationCodes codes;
    public final AccessTokenVerifier bearer;
    public final McpEndpoint mcp;
    /** The upstream MCP servers of the servers file ({@code /mcp/NAME}, aggregated on {@code /mcp}); null without a servers file. */
    public final Gateway gateway;
    private final AuthorizationFlow flow;
    private final BrowserSessions browserSessions;
    /** The one password sign-in of /login and /account/signin: its limits, hashing bound, events. */
    private final PasswordSignIn signIns;
    public final Sweeper sweeper;
    /** Listeners (HTTP/HTTPS, loopback admin port), /metrics, audit log, trusted proxies. */
    public final Operations ops;
    /** API keys ({@code mcpk_...}): accepted on /mcp as their user. */
    public final ApiKeys apiKeys;
    /** Identity assertions for upstream MCP servers ({@code "identity": "jwt"}) and the JWK Set that verifies them. */
    public final IdentityJwt identityJwt;
    /** The users' connections to third-party services (the vault); null when the servers file configures none. */
    public final Connections connections;
    /** {@code /admin/api} and the credential the commands use to reach this server. */
    public final AdminModule admin;
    private final Javalin app;
    private volatile boolean started;

    private Server(Settings settings, Clock clock, Ticker ticker) {
        this.settings = settings;
        this.clock = clock;
        this.ticker = ticker;
        this.ops = Operations.create(settings, clock); // TLS_KEYSTORE and AUDIT_LOG checked before the lock is taken
        this.stores = openStores(settings);
        this.files = stores instanceof FileStores f ? f.files() : null;
        Idp opened = null;
        Gateway gw = null;
        try {
            LOG.info("Persistent storage initialized at {}", files != null ? files.dir() : stores.describe());
            this.clients = stores.clients();
            this.users = stores.users();
            this.consents = new Consents(stores.consents());
            this.notes = new Notes(stores.notes());
            this.refreshTokens = new RefreshTokens(stores.grants(), settings.refreshTokenTtl, settings.refreshGrace);
            this.accessTokens = new AccessTokens(stores.accessTokens());
            this.lifecycle = new GrantLifecycle(stores, accessTokens, ops.events());
            this.upstream = opened = Idp.open(settings, clock, stores,
                    () -> files != null ? EncryptionKeys.open(settings.value(Settings.ENCRYPTION_KEY), files.dir(), stores.idpTokens())
                            : EncryptionKey.open(settings.value(Settings.ENCRYPTION_KEY), stores.idpTokens()), settings.url(AccountEndpoints.PATH));
            ClientRegistry registry = new ClientRegistry(clients, new HttpClientIdMetadata(settings, clock));
            this.oauth = new OAuthServices(settings, clock, clients, refreshTokens, accessTokens, registry, new ClientAuthentication(registry),
                    ops.events(), lifecycle);
            this.codes = new AuthorizationCodes(stores.codes(), settings.authCodeTtl);
            this.connections = openConnections(settings, clock, stores, files);
            this.bearer = new AccessTokenVerifier(oauth, users, upstream == null ? null : upstream.tokens, connections);
            this.apiKeys = new ApiKeys(stores.apiKeys());
            // the keys are derived ahead only for a gateway (its upstreams verify assertions); otherwise on first use
            IdentityJwt jwt = IdentityJwt.from(settings, stores.sharedKey(IdentityJwt.KEY_NAME), users, clock);
            this.identityJwt = settings.mcpServers().source() != null ? jwt.warm() : jwt;
            IdpAccess idpAccess = upstream == null ? null : upstream.tokens;
            this.callers = new ApiKeyAuthenticator(apiKeys, users, settings.scopes, clock, ops.events(), bearer, idpAccess, connections);
            byte[] requestStateKey = stores.sharedKey(REQUEST_STATE_KEY);
            if (settings.mcpServers().source() != null) {
                // each /mcp/NAME accepts only tokens issued for its own resource (API keys are accepted everywhere, as on /mcp)
                this.gateway = gw = new Gateway(settings, identityJwt::assertion, resource -> new ApiKeyAuthenticator(apiKeys, users, settings.scopes, clock,
                        ops.events(), bearer.forResource(resource), idpAccess, connections), requestStateKey, clock, ops.events());
                // connections are read at start only: a reloaded file may name only those
                ConnectionProviders providers = connections == null ? ConnectionProviders.NONE : connections.providers();
                gw.checks(next -> unknownConnections(next, providers));
            } else {
                this.gateway = null;
            }
            this.mcp = new McpEndpoint(settings, callers, BuiltInTools.builtIn(settings, notes, upstream == null ? null : upstream.profileEndpoint(),
                    connections, connectTimeout(settings)), requestStateKey, clock, gateway);
            if (connections != null) connections.listen(mcp::connected); // notifications/elicitation/complete on legacy sessions' streams
            this.browserSessions = new BrowserSessions(settings.httpsPublicUrl(), stores.sessions());
            this.signIns = new PasswordSignIn(new LocalAccounts(users, PASSWORDS), users, clock, ticker).events(ops.events());
            this.flow = new AuthorizationFlow(settings, clock, new AuthorizeRequests(settings, registry), codes, consents, users,
                    signIns, browserSessions, upstream == null ? null : upstream.signIn, stores.pending()).events(ops.events());
            this.sweeper = new Sweeper(sweepTasks(), clock, stores);
            AdminService service = new AdminService(settings, clock, stores, files, lifecycle, ops.events(),
                    "the running server (pid " + ProcessHandle.current().pid() + ")");
            // with a database the commands use it directly: no credential for them to reach this instance
            this.admin = new AdminModule(files == null ? null : files.dir(), service, settings.adminToken, ops::adminPort, clock).gateway(gateway)
                    .reload(gateway == null ? null : this::reloadServers);
            gauges();
            if (upstream != null) upstream.tokens.events(ops.events());
            this.app = Javalin.create(this::configure);
            logLoaded(); // waits for the refresh tokens; a damaged file is refused here
        } catch (RuntimeException e) {
            if (gw != null) gw.close();
            if (opened != null) opened.close();
            stores.close();
            throw e;
        }
    }

    private static final PasswordHasher PASSWORDS = new PasswordHasher();
    /** Every bearer credential /mcp and /api/me/connections accept: API keys, then access tokens. */
    private final BearerAuthenticator callers;

    /**
     * The {@code "connections"} of the servers file ({@code MCP_SERVERS_FILE}); null when there are none. Their tokens
     * are encrypted with the same key as the identity-provider tokens ({@code ENCRYPTION_KEY} or {@code encryption.key}).
     */
    private static Connections openConnections(Settings settings, Clock clock, Stores stores, FileStore files) {
        ConnectionProviders providers = ConnectionProviders.load(settings.value(Settings.MCP_SERVERS_FILE), settings::variable, connectTimeout(settings));
        List<String> unknown = unknownConnections(settings.mcpServers(), providers);
        if (!unknown.isEmpty()) throw new ConfigException(unknown);
        if (providers.isEmpty()) {
            if (stores.connections().count() > 0) {
                LOG.warn("{} stored connections, but the servers file configures none: tools cannot use them", stores.connections().count());
            }
            return null;
        }
        TokenCipher cipher = files != null ? EncryptionKeys.open(settings.value(Settings.ENCRYPTION_KEY), files.dir(), stores.idpTokens())
                : EncryptionKey.open(settings.value(Settings.ENCRYPTION_KEY), stores.idpTokens());
        Connections c = new Connections(providers, stores.connections(), cipher, stores.idpStates(), clock, settings.issuer, connectTimeout(settings),
                files != null);
        LOG.info("Connections: {} (register {} as the redirect URI at each OAuth provider); {} stored", providers.all().stream()
                .map(p -> p.name() + " (" + p.displayName() + ")").toList(), c.callbackUrl(), stores.connections().count());
        return c;
    }

    /** Every "connection" of a server names a configured one: a line for each that does not. */
    static List<String> unknownConnections(McpServers servers, ConnectionProviders providers) {
        List<String> out = new ArrayList<>();
        for (McpServers.Entry e : servers.servers().values()) {
            if (e.connection() != null && providers.get(e.connection().name()) == null) {
                out.add(servers.source() + ": servers." + e.name() + ".connection.name: '" + e.connection().name()
                        + "' is not a configured connection (declare it under \"connections\")");
            }
        }
        return out;
    }

    /** UPSTREAM_TIMEOUT (seconds, 1-120) bounds every call to a connection's provider. */
    static java.time.Duration connectTimeout(Settings settings) {
        String v = settings.value(Settings.UPSTREAM_TIMEOUT);
        try {
            int s = Integer.parseInt(v);
            if (s >= 1 && s <= 120) return java.time.Duration.ofSeconds(s);
        } catch (NumberFormatException ignored) {
            // below
        }
        throw new io.mcpoauth.config.ConfigException("UPSTREAM_TIMEOUT=" + v + ": expected whole seconds between 1 and 120");
    }
    /** The HMAC key of MCP 2026-07-28 requestStates (a tool's pending questions), in the data directory. */
    /** The shared key that seals the modern era's {@code requestState} (with the file backend: {@code request-state.key}). */
    public static final String REQUEST_STATE_KEY = "request-state";


    /** The backend {@code STORE} names: the data directory (locked by this process) or the database (shared). */
    static Stores openStores(Settings settings) {
        if (settings.store.equals("postgres")) return PgStores.open(settings);
        return FileStores.open(settings.dataDir, settings.maxBrowserSessions);
    }

    public static Server create(Settings settings) {
        return create(settings, Clock.systemUTC());
    }

    public static Server create(Settings settings, Clock clock) {
        return create(settings, clock, Ticker.SYSTEM);
    }

    /** @param ticker what rate limits and throttles measure elapsed time with (monotonic; tests pass their own) */
    public static Server create(Settings settings, Clock clock, Ticker ticker) {
        return new Server(settings, clock, ticker);
    }

    private void gauges() {
        Instant startedAt = clock.instant();
        Metrics metrics = ops.metrics();
        if (files != null) metrics.commitStats(files.stats());
        metrics.gauge("mcp_oauth_clients", "Registered clients stored.", stored(clients::count))
                .gauge("mcp_oauth_refresh_families", "Live grants (refresh-token families) stored.", stored(stores.grants()::count))
                .gauge("mcp_oauth_access_tokens", "Access tokens stored (live until they expire or are swept).", stored(accessTokens::size))
                .gauge("mcp_oauth_users", "Users stored.", stored(users::count))
                .gauge("mcp_oauth_api_keys", "API keys stored.", stored(apiKeys::size))
                .gauge("mcp_oauth_connections", "Users' connections to third-party services stored.", stored(stores.connections()::count))
                .gauge("mcp_oauth_store_healthy", "1 while the store's writes succeed, else 0.", () -> stores.problem() == null ? 1 : 0)
                .gauge("mcp_oauth_start_time_seconds", "When this server started (Unix time).", startedAt::getEpochSecond);
        if (stores instanceof PgStores pg) {
            metrics.gauge("mcp_oauth_database_connections_active", "Database connections of this instance in use.", () -> pg.poolState()[0])
                    .gauge("mcp_oauth_database_connections_idle", "Database connections of this instance idle in the pool.", () -> pg.poolState()[1])
                    .gauge("mcp_oauth_database_connections_waiting", "Requests of this instance waiting for a database connection.",
                            () -> pg.poolState()[2]);
        }
        metrics.counterFamily("mcp_oauth_tool_calls_total", "MCP tool calls that reached a tool, by tool.", "tool", mcp::toolCallsByTool);
        if (gateway != null) {
            metrics.counterFamily("mcp_oauth_gateway_calls_total", "Tool calls sent to each upstream MCP server.", "server", gateway::callsByServer)
                    .counterFamily("mcp_oauth_gateway_errors_total", "Tool calls of each upstream MCP server that failed (down, slow, refused, JSON-RPC error).",
                            "server", gateway::errorsByServer)
                    .counterFamily("mcp_oauth_gateway_processes", "stdio processes running for each upstream MCP server (a gauge).", "server",
                            gateway::processesByServer)
                    .histogramFamily("mcp_oauth_gateway_call_duration_seconds", "Time of tool calls to each upstream MCP server, as the gateway saw it.",
                            "server", io.mcpoauth.resource.gateway.ServerStats.BUCKETS, () -> {
                                Map<String, Metrics.Histogram> m = new java.util.TreeMap<>();
                                for (io.mcpoauth.resource.gateway.ServerStats st : gateway.stats()) {
                                    long[] cum = new long[io.mcpoauth.resource.gateway.ServerStats.BUCKETS.length + 1];
                                    for (int i = 0; i < cum.length; i++) cum[i] = st.cumulative(i);
                                    m.put(st.name(), new Metrics.Histogram(cum, st.secondsSum(), cum[cum.length - 1]));
                                }
                                return m;
                            });
        }
    }

    /** A count from the store; NaN while the store cannot answer (the metrics still render, mcp_oauth_store_healthy says why). */
    private static java.util.function.DoubleSupplier stored(java.util.function.IntSupplier count) {
        return () -> {
            try {
                return count.getAsInt();
            } catch (StoreException e) {
                return Double.NaN;
            }
        };
    }

    private void logLoaded() {
        int orphaned = lifecycle.dropOrphanedGrants();
        int expired = stores.grants().countExpired(clock.instant());
        StringBuilder notes = new StringBuilder();
        if (orphaned > 0) notes.append("; dropped ").append(orphaned).append(" whose client no longer exists");
        if (expired > 0) notes.append("; ").append(expired).append(" expired, removed by the sweeper");
        LOG.info("Loaded {} clients and {} refresh tokens{}", clients.count(), stores.grants().count(), notes);
    }

    private List<Sweeper.Task> sweepTasks() {
        List<Sweeper.Task> tasks = new ArrayList<>();
        tasks.add(Sweeper.Task.of("refresh_tokens", lifecycle::sweepGrants));
        tasks.add(Sweeper.Task.of("unused_clients", now -> lifecycle.sweepUnusedClients(now, settings.unusedClientTtl)));
        tasks.add(Sweeper.Task.of("access_tokens", accessTokens::sweep));
        tasks.add(Sweeper.Task.of("authorization_codes", codes::sweep));
        tasks.add(Sweeper.Task.of("pending_authorizations", flow::sweep));
        if (upstream != null) tasks.add(Sweeper.Task.of("upstream_states", upstream.signIn::sweep));
        else if (connections != null) tasks.add(Sweeper.Task.of("connect_states", connections::sweep));
        return tasks;
    }

    private void configure(JavalinConfig config) {
        config.startup.showJavalinBanner = false;
        config.startup.showOldJavalinVersionWarning = false;
        config.jetty.host = settings.host;
        config.jetty.port = settings.port;
        config.http.maxRequestSize = Bodies.MAX_BYTES; // bodies are read through Bodies; this bounds anything Javalin reads itself
        // Large enough that an oversized bearer token reaches /mcp and gets a proper 401 rather than Jetty's 431 page.
        config.jetty.modifyHttpConfiguration(hc -> hc.setRequestHeaderSize(32 * 1024));
        ops.configure(config);
        admin.configure(config);
        config.routes.exception(OAuthError.class, (e, ctx) -> Web.oauthError(ctx, e));
        config.routes.exception(PageError.class, (e, ctx) -> Web.page(ctx, e.status(), Pages.error(e.title(), e.getMessage())));
        config.routes.exception(StoreException.class, (e, ctx) -> {
            LOG.error("Storage failure: {}", e.getMessage());
            ctx.header("Retry-After", "2");
            Web.oauthError(ctx, OAuthError.temporarilyUnavailable("The server could not save your change; nothing was changed. Try again shortly."));
        });
        config.routes.exception(Exception.class, (e, ctx) -> {
            LOG.error("Unexpected error on {} {}", ctx.method(), ctx.path(), e);
            Web.oauthError(ctx, OAuthError.serverError("Something went wrong on the server; it has been logged."));
        });
        config.routes.get("/healthz", ctx -> {
            String problem = stores.problem();
            if (problem != null) ctx.header("Retry-After", "2");
            Web.json(ctx, problem == null ? 200 : 503, Map.of("status", problem == null ? "ok" : "degraded", "store", problem == null ? "ok"
                    : files != null ? "failing writes" : "database unreachable"));
        });
        new AuthorizeEndpoints(flow, browserSessions, clock).routes(config);
        AccountEndpoints account = new AccountEndpoints(settings, clock, browserSessions, users, consents, stores.grants(), lifecycle, clients, signIns,
                upstream == null ? null : upstream.signIn, upstream == null ? null : upstream.tokens);
        account.routes(config);
        if (connections != null) new ConnectEndpoints(connections, account, callers, clock).routes(config);
        TokenEndpoint token = new TokenEndpoint(oauth, codes);
        token.routes(config);
        new MetadataEndpoints(oauth, token.grantTypes()).routes(config);
        identityJwt.routes(config);
        new ClientEndpoints(oauth, ticker).routes(config);
        mcp.mount(config);
    }

    /** At the first start with no users and local sign-in, creates {@code admin} with a random password printed once. */
    public void bootstrapFirstUser(PrintStream out) {
        if (!settings.authProvider.equals("local") || users.count() > 0) return;
        String password = Secrets.randomString(18);
        try {
            new LocalAccounts(users, PASSWORDS).add("admin", password.toCharArray(), clock.instant());
        } catch (LocalAccounts.AccountException e) {
            if (users.count() > 0) return; // another instance on the same database made the first user at the same moment
            throw e;
        }
        out.println();
        out.println("Created the first user 'admin' with the password: " + password);
        out.println("It is shown only this once. Change it with: java -jar mcp-oauth-server.jar users passwd admin");
        out.println();
        out.flush();
    }

    public synchronized Server start() {
        app.start();
        started = true;
        ops.started();
        admin.started();
        sweeper.start(settings.cleanupInterval);
        LOG.info("Listening on {}:{}; issuer {}; MCP endpoint {}", settings.host, app.port(), settings.issuer, settings.mcpResource());
        return this;
    }

    public int port() {
        return app.port();
    }

    public Javalin app() {
        return app;
    }

    /** Stops accepting requests, lets in-flight ones and their commits finish, then releases the data directory. */
    @Override
    public synchronized void close() {
        if (started) {
            mcp.closeStreams(); // the sessions' GET streams never end by themselves: end them before Jetty waits for its requests
            app.stop();
            started = false;
        }
        sweeper.close();
        mcp.close();
        if (gateway != null) gateway.close();
        admin.close();
        if (upstream != null) upstream.close();
        stores.close();
        LOG.info("Stopped; {} released", stores.describe());
    }

    /**
     * Reads the servers file again and serves it (see {@link Gateway#reload}); with a mistake nothing changes and the
     * answer lists one line per mistake.
     */
    public Gateway.Reload reloadServers() {
        if (gateway == null) {
            return new Gateway.Reload(List.of(), List.of(), List.of(), List.of(), List.of(), List.of("The server started without a servers file ("
                    + Settings.MCP_SERVERS_FILE.name() + " unset and no mcp-servers.json); set it and restart to serve MCP servers"));
        }
        return gateway.reload();
    }

    /**
     * SIGHUP reloads the servers file (for {@code serve}: the signal is the process's). Through {@code sun.misc.Signal},
     * reached by reflection: a JVM without it (or one that refuses the signal) only logs that reloads go through
     * {@code servers reload} or the admin API.
     *
     * @return whether SIGHUP now reloads
     */
    public boolean reloadOnHangup() {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object onHup = java.lang.reflect.Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                    Thread t = new Thread(() -> {
                        LOG.info("SIGHUP: reloading the servers file");
                        reloadServers(); // logs what it did, or each mistake
                    }, "reload-servers");
                    t.setDaemon(true);
                    t.start();
                    return null;
                }
                return switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "reload-servers on SIGHUP";
                };
            });
            Object before = signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance("HUP"), onHup);
            if (before != null && before == handler.getField("SIG_IGN").get(null)) {
                // a process started with SIGHUP ignored (nohup) keeps ignoring it: the JVM does not install the handler
                LOG.info("SIGHUP is ignored by this process (started with nohup?); reload the servers file with: java -jar mcp-oauth-server.jar servers reload");
                return false;
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : e;
            LOG.info("SIGHUP is not available in this JVM ({}); reload the servers file with: java -jar mcp-oauth-server.jar servers reload",
                    cause.getClass().getSimpleName());
            return false;
        }
    }
}
