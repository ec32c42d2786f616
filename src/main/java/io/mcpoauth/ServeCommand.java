package io.mcpoauth;

import io.mcpoauth.admin.Cli;
import io.mcpoauth.admin.Command;
import io.mcpoauth.admin.UsageException;
import io.mcpoauth.config.Settings;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** {@code serve}: start the server and run until SIGTERM/SIGINT, then stop cleanly; SIGHUP reloads the servers file. */
final class ServeCommand implements Command {
    @Override
    public String name() {
        return "serve";
    }

    @Override
    public List<String> usage() {
        return List.of("serve    (the default)");
    }

    @Override
    public int run(List<String> args, Cli cli) {
        if (!args.isEmpty()) throw new UsageException("serve takes no arguments; settings come from the environment and .env.");
        Settings settings = cli.settings();
        Logging.configure(settings.logLevel);
        Server server = Server.create(settings);
        server.bootstrapFirstUser(cli.out);
        CountDownLatch stopped = new CountDownLatch(1);
        // Registered before the server starts, so a SIGTERM at any moment from here on stops it cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        server.start();
        if (server.gateway != null) server.reloadOnHangup();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
