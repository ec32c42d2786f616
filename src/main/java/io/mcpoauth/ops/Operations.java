package io.mcpoauth.ops;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.config.Settings;
import io.mcpoauth.mcp.BearerAuthenticator;
import io.mcpoauth.mcp.McpEndpoint;
import io.mcpoauth.mcp.UpstreamAccess;
import io.mcpoauth.store.AccessTokens;
import io.mcpoauth.store.ApiKeys;
import io.mcpoauth.store.Clients;
import io.mcpoauth.store.Consents;
import io.mcpoauth.store.Notes;
import io.mcpoauth.store.RefreshTokens;
import io.mcpoauth.store.Store;
import io.mcpoauth.store.Users;
import io.mcpoauth.util.Secrets;
import io.mcpoauth.util.Web;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything an operator touches, wired into the server in a few calls:
 * <pre>
 * ops = Operations.create(settings, clock);       // before the store: TLS and AUDIT_LOG checked, nothing held
 * ... ops.events() to the OAuth code; ops.authenticator(accessTokenVerifier) to /mcp
 * ops.bind(store, clients, ...);                   // api_keys.json, the admin service, gauges
 * Javalin.create(config -> { ops.configure(config); ... });
 * app.start(); ops.started();                      // publishes .admin-api.json
 * ops.close();                                     // before the store closes
 * </pre>
 * It owns: the listeners (HTTP or HTTPS on HOST:PORT, plus the loopback admin port), client-address resolution
 * ({@code TRUSTED_PROXIES}), API keys, {@code /admin/api}, {@code /metrics} and the audit log.
 */
public final class Operations implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

    private final Settings settings;
    private final Clock clock;
    private final Tls tls;
    private final ClientAddress addresses;
    private final Metrics metrics = new Metrics();
    private final Events events;
    private final String socketToken = Secrets.randomString(32);
    private final Instant startedAt;
    private volatile ApiKeys apiKeys;
    private volatile Admin admin;
    private volatile Path dataDir;
    private volatile ServerConnector adminConnector;
    private volatile boolean published;
    private volatile BearerAuthenticator oauthTokens;
    private volatile BearerAuthenticator apiKeyAuthenticator;

    private Operations(Settings settings, Clock clock, Tls tls, AuditLog audit) {
        this.settings = settings;
        this.clock = clock;
        this.tls = tls;
        this.addresses = new ClientAddress(settings.trustedProxies);
        this.events = new Events(audit, metrics);
        this.startedAt = clock.instant();
    }

    /** Checks TLS_KEYSTORE and AUDIT_LOG (a {@link io.mcpoauth.config.ConfigException} names the setting); holds nothing. */
    public static Operations create(Settings settings, Clock clock) {
        Tls tls = settings.tlsKeystore == null ? null : Tls.load(settings.tlsKeystore, settings.tlsKeystorePassword);
        AuditLog audit = settings.auditLog == null ? AuditLog.toLogger(clock) : AuditLog.toFile(settings.auditLog, clock);
        return new Operations(settings, clock, tls, audit);
    }

    public Events events() {
        return events;
    }

    public Metrics metrics() {
        return metrics;
    }

    public ClientAddress addresses() {
        return addresses;
    }

    /** The administrative operations of this server (after {@link #bind}). */
    public Admin admin() {
        return admin;
    }

    public ApiKeys apiKeys() {
        return apiKeys;
    }

    /** /mcp authentication: API keys ({@code mcpk_...}) here, every other token to {@code accessTokens}. */
    public BearerAuthenticator authenticator(BearerAuthenticator accessTokens) {
        this.oauthTokens = accessTokens;
        return token -> {
            BearerAuthenticator keys = apiKeyAuthenticator;
            return keys != null ? keys.authenticate(token) : accessTokens.authenticate(token);
        };
    }

    /** Opens {@code api_keys.json} and builds the admin service over the server's components. */
    public void bind(Store store, Clients clients, RefreshTokens refreshTokens, Users users, Consents consents, Notes notes,
                     AccessTokens accessTokens, McpEndpoint mcp, UpstreamAccess upstream) {
        this.dataDir = store.dir();
        AdminSocket.deleteStale(store.dir());
        ApiKeys keys = new ApiKeys(store);
        this.apiKeys = keys;
        this.apiKeyAuthenticator = new ApiKeyAuthenticator(keys, users, settings.scopes, clock, events, token -> {
            BearerAuthenticator other = oauthTokens;
            return other == null ? null : other.authenticate(token);
        }, upstream);
        AdminService service = new AdminService(settings, clock, store, clients, refreshTokens, users, consents, notes, keys, accessTokens,
                events, "the running server (pid " + ProcessHandle.current().pid() + ")");
        if (upstream != null) service.upstreamTokens(upstream::forget);
        this.admin = service;
        metrics.commitStats(store.stats());
        metrics.gauge("mcp_oauth_clients", "Registered clients stored.", clients::size)
                .gauge("mcp_oauth_refresh_families", "Live grants (refresh-token families) stored.", refreshTokens::size)
                .gauge("mcp_oauth_access_tokens", "Access tokens held in memory (live until they expire or are swept).", accessTokens::size)
                .gauge("mcp_oauth_users", "Users stored.", users::size)
                .gauge("mcp_oauth_api_keys", "API keys stored.", keys::size)
                .gauge("mcp_oauth_store_healthy", "1 while every store file's last write succeeded, else 0.", () -> store.healthy() ? 1 : 0)
                .gauge("mcp_oauth_start_time_seconds", "When this server started (Unix time).", () -> startedAt.getEpochSecond());
        if (mcp != null) {
            metrics.counterFamily("mcp_oauth_tool_calls_total", "MCP tool calls that reached a tool, by tool.", "tool", mcp::toolCallsByTool);
        }
    }

    /** Listeners, address resolution, the request filter, {@code /metrics} and {@code /admin/api}. Call early in the configuration. */
    public void configure(JavalinConfig config) {
        config.contextResolver.ip = (Context ctx) -> addresses.of(ctx.req());
        // Jetty caches header fields per keep-alive connection and, by default, matches them ignoring case: a bearer
        // token differing from an earlier one on the same connection only in letter case would be read as that one.
        config.jetty.modifyHttpConfiguration(hc -> hc.setHeaderCacheCaseSensitive(true));
        config.jetty.addConnector((server, http) -> tls == null
                ? plain(server, http, settings.host, settings.port)
                : tls.connector(server, http, settings.host, settings.port));
        config.jetty.addConnector((server, http) -> {
            ServerConnector c = plain(server, http, "127.0.0.1", 0);
            c.setName("admin");
            adminConnector = c;
            return c;
        });
        config.jetty.modifyServletContextHandler(handler -> {
            FilterHolder holder = new FilterHolder(new OpsFilter(addresses, this::adminPort));
            holder.setName("ops");
            holder.setAsyncSupported(true);
            handler.getServletHandler().prependFilter(holder);
            FilterMapping mapping = new FilterMapping();
            mapping.setFilterName("ops");
            mapping.setPathSpec("/*");
            mapping.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST));
            handler.getServletHandler().prependFilterMapping(mapping);
        });
        config.routes.get("/metrics", ctx -> {
            ctx.header("Cache-Control", "no-store");
            ctx.status(200).contentType(Metrics.CONTENT_TYPE).result(metrics.render());
        });
        // Refused token requests, by error code: every OAuth error answer records its code (Web.oauthError).
        config.routes.after("/token", ctx -> {
            String error = ctx.attribute(Web.ERROR_ATTRIBUTE);
            if (error == null || !"POST".equals(ctx.method().name())) return;
            String grantType = null;
            try {
                grantType = ctx.formParam("grant_type");
            } catch (RuntimeException ignored) {
                // an unreadable body: counted without a grant type
            }
            events.tokenRefused(grantType, error);
        });
        new AdminApi(() -> admin, settings.adminToken, this::adminPort, () -> socketToken).routes(config);
    }

    private static ServerConnector plain(org.eclipse.jetty.server.Server server, org.eclipse.jetty.server.HttpConfiguration http,
                                         String host, int port) {
        ServerConnector c = new ServerConnector(server, new HttpConnectionFactory(http));
        c.setHost(host);
        c.setPort(port);
        return c;
    }

    /** The loopback admin port, or 0 before the server listens. */
    public int adminPort() {
        ServerConnector c = adminConnector;
        return c == null ? 0 : Math.max(0, c.getLocalPort());
    }

    /** After the server listens: logs the listeners and publishes the admin credential for the commands. */
    public void started() {
        if (tls != null) LOG.info("Serving HTTPS directly with {} from {}", tls.describe(), tls.file());
        int port = adminPort();
        if (port <= 0 || dataDir == null) return;
        try {
            AdminSocket.write(dataDir, new AdminSocket.Credential(ProcessHandle.current().pid(), "http://127.0.0.1:" + port, socketToken,
                    clock.instant()));
            published = true;
            LOG.info("Admin commands reach this server on 127.0.0.1:{} (credential in {})", port, dataDir.resolve(AdminSocket.FILE));
        } catch (IOException e) {
            LOG.warn("Cannot write {}: {}; commands cannot reach this server while it runs", dataDir.resolve(AdminSocket.FILE), e.toString());
        }
    }

    /** Withdraws the admin credential; call before the store closes. */
    @Override
    public void close() {
        if (published && dataDir != null) AdminSocket.delete(dataDir, socketToken);
        published = false;
    }
}
