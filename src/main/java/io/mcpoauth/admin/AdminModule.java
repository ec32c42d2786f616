package io.mcpoauth.admin;

import io.javalin.config.JavalinConfig;
import io.mcpoauth.core.Secrets;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running server's side of administration: {@code /admin/api} (routes), and the 0600 credential in the data
 * directory through which the commands reach this server on the loopback admin port.
 * <pre>
 * admin = new AdminModule(dataDir, service, adminToken, ops::adminPort, clock);   // removes a stale credential
 * Javalin.create(config -> { ...; admin.configure(config); });
 * app.start(); admin.started();                                                  // publishes .admin-api.json
 * admin.close();                                                                 // before the store closes
 * </pre>
 */
public final class AdminModule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminModule.class);

    private final Path dataDir;
    private final Admin admin;
    private final String adminToken;
    private final IntSupplier adminPort;
    private final Clock clock;
    private final String socketToken = Secrets.randomString(32);
    private volatile boolean published;

    public AdminModule(Path dataDir, Admin admin, String adminToken, IntSupplier adminPort, Clock clock) {
        this.dataDir = dataDir;
        this.admin = admin;
        this.adminToken = adminToken;
        this.adminPort = adminPort;
        this.clock = clock;
        if (dataDir != null) AdminSocket.deleteStale(dataDir);
    }

    public Admin admin() {
        return admin;
    }

    private volatile io.mcpoauth.resource.gateway.Gateway gateway;

    /** Serves {@code /admin/api/servers} for these upstream MCP servers; call before {@link #configure}. */
    public AdminModule gateway(io.mcpoauth.resource.gateway.Gateway gateway) {
        this.gateway = gateway;
        return this;
    }

    private volatile java.util.function.Supplier<io.mcpoauth.resource.gateway.Gateway.Reload> reload;

    /** Serves {@code POST /admin/api/servers/reload}; call before {@link #configure}. */
    public AdminModule reload(java.util.function.Supplier<io.mcpoauth.resource.gateway.Gateway.Reload> reload) {
        this.reload = reload;
        return this;
    }

    public void configure(JavalinConfig config) {
        new AdminApi(() -> admin, adminToken, adminPort, () -> socketToken).gateway(gateway).reload(reload).routes(config);
    }

    /** After the server listens: publishes the admin credential for the commands. */
    public void started() {
        int port = adminPort.getAsInt();
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
