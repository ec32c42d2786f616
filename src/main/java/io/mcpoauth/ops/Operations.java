package io.mcpoauth.ops;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.config.Settings;
import io.mcpoauth.http.Web;
import jakarta.servlet.DispatcherType;
import java.time.Clock;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an operator watches, wired into the server in a few calls:
 * <pre>
 * ops = Operations.create(settings, clock);       // before the store: TLS and AUDIT_LOG checked, nothing held
 * ... ops.events() to the OAuth code; ops.gauge(...) for what the store holds
 * Javalin.create(config -> { ops.configure(config); ... });
 * app.start(); ops.started();
 * </pre>
 * It owns: the listeners (HTTP or HTTPS on HOST:PORT, plus the loopback admin port that only serves
 * {@value #ADMIN_PREFIX}), client-address resolution ({@code TRUSTED_PROXIES}), {@code /metrics} and the audit log.
 */
public final class Operations {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);
    /** The path prefix the loopback admin port serves (and nothing else). */
    public static final String ADMIN_PREFIX = "/admin/api";
    /** How long a connection may stay open with nothing sent either way. */
    public static final long IDLE_TIMEOUT_MILLIS = 20_000;
    /** Below this rate (after its first byte) a body that is read while it arrives is refused with 408. */
    public static final long MIN_REQUEST_DATA_RATE = 1024;
    /** Bodies up to this size are received whole before the application sees them (every form and token request). */
    static final int BUFFERED_BODY_BYTES = 64 * 1024 + 1;

    private final Settings settings;
    private final Tls tls;
    private final ClientAddress addresses;
    private final Metrics metrics = new Metrics();
    private final AuditEvents events;
    private final ConnectionsPerAddress connectionsPerAddress;
    private volatile ServerConnector adminConnector;

    private Operations(Settings settings, Tls tls, AuditLog audit) {
        this.settings = settings;
        this.tls = tls;
        this.addresses = new ClientAddress(settings.trustedProxies);
        this.events = new AuditEvents(audit, metrics);
        this.connectionsPerAddress = new ConnectionsPerAddress(settings.maxConnectionsPerAddress, addresses);
    }

    /** Checks TLS_KEYSTORE and AUDIT_LOG (a {@link io.mcpoauth.config.ConfigException} names the setting); holds nothing. */
    public static Operations create(Settings settings, Clock clock) {
        Tls tls = settings.tlsKeystore == null ? null : Tls.load(settings.tlsKeystore, settings.tlsKeystorePassword);
        AuditLog audit = settings.auditLog == null ? AuditLog.toLogger(clock) : AuditLog.toFile(settings.auditLog, clock);
        return new Operations(settings, tls, audit);
    }

    public AuditEvents events() {
        return events;
    }

    public Metrics metrics() {
        return metrics;
    }

    public ClientAddress addresses() {
        return addresses;
    }

    /** Listeners, address resolution, the request filter and {@code /metrics}. Call early in the configuration. */
    public void configure(JavalinConfig config) {
        config.contextResolver.ip = (Context ctx) -> addresses.of(ctx.req());
        // Jetty caches header fields per keep-alive connection and, by default, matches them ignoring case: a bearer
        // token differing from an earlier one on the same connection only in letter case would be read as that one.
        config.jetty.modifyHttpConfiguration(hc -> hc.setHeaderCacheCaseSensitive(true));
        // Slow peers: a body is received without holding a thread, within REQUEST_BODY_TIMEOUT (408 after); a larger
        // body read while it arrives must keep a minimum rate; an idle connection closes; one address has at most
        // MAX_CONNECTIONS_PER_ADDRESS connections open.
        config.jetty.modifyHttpConfiguration(hc -> hc.setMinRequestDataRate(MIN_REQUEST_DATA_RATE));
        config.jetty.modifyServer(server -> server.setHandler(
                new RequestBodyDeadline(settings.requestBodyTimeout.toMillis(), BUFFERED_BODY_BYTES)));
        config.jetty.addConnector((server, http) -> {
            ServerConnector c = tls == null
                    ? plain(server, http, settings.host, settings.port)
                    : tls.connector(server, http, settings.host, settings.port);
            c.addEventListener(connectionsPerAddress);
            return c;
        });
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
            Web.noStore(ctx);
            ctx.status(200).contentType(Metrics.CONTENT_TYPE).result(metrics.render());
        });
        // Refused token requests, by error code: every OAuth error answer records its code (Web.oauthError).
        config.routes.after("/token", ctx -> {
            String error = ctx.attribute(Web.ERROR_ATTRIBUTE);
            if (error == null || !"POST".equals(ctx.method().name())) return;
            // The form as the endpoint read it (Web.form); none when the body was refused or unreadable.
            io.mcpoauth.http.Params form = Web.parsedForm(ctx.req());
            events.tokenRefused(form == null ? null : form.first("grant_type"), error);
        });
    }

    private static ServerConnector plain(org.eclipse.jetty.server.Server server, org.eclipse.jetty.server.HttpConfiguration http,
                                         String host, int port) {
        ServerConnector c = new ServerConnector(server, new HttpConnectionFactory(http));
        c.setHost(host);
        c.setPort(port);
        c.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
        return c;
    }

    /** The loopback admin port, or 0 before the server listens. */
    public int adminPort() {
        ServerConnector c = adminConnector;
        return c == null ? 0 : Math.max(0, c.getLocalPort());
    }

    /** After the server listens: logs the listeners. */
    public void started() {
        if (tls != null) LOG.info("Serving HTTPS directly with {} from {}", tls.describe(), tls.file());
    }
}
