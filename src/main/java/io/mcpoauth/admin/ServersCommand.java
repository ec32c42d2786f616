package io.mcpoauth.admin;

import io.mcpoauth.config.McpServers;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.resource.gateway.Gateway;
import java.time.Clock;
import java.util.List;

/**
 * {@code servers list | check NAME}: the upstream MCP servers of the servers file ({@code MCP_SERVERS_FILE}), and a
 * check of one from this machine: connect (start the process for a stdio server), list its tools, report the protocol
 * version it negotiated and how long that took. The check runs in this command's own process, as a check user
 * ({@code gateway:check}); it does not disturb a running server. {@code servers reload} asks the running server (through
 * its loopback admin port, as the other commands reach it) to read the servers file again.
 */
public final class ServersCommand implements Command {
    @Override
    public String name() {
        return "servers";
    }

    @Override
    public List<String> usage() {
        return List.of("servers list", "servers check NAME", "servers reload");
    }

    @Override
    public int run(List<String> args, Cli cli) {
        if (args.isEmpty()) throw new UsageException("servers needs a command: list, check NAME or reload.");
        String sub = args.get(0);
        Settings settings = cli.settings();
        McpServers servers = settings.mcpServers();
        switch (sub) {
            case "list" -> {
                if (args.size() != 1) throw new UsageException("servers list takes no arguments.");
                if (servers.source() == null) {
                    cli.out.println("No servers file (" + Settings.MCP_SERVERS_FILE.name() + " unset and no mcp-servers.json here): only the built-in tools, at "
                            + settings.mcpResource() + ".");
                    return 0;
                }
                cli.out.println("Servers file: " + servers.source() + "; built-in tools " + (servers.builtinEnabled() ? "on" : "off") + ".");
                if (servers.servers().isEmpty()) {
                    cli.out.println("No servers.");
                    return 0;
                }
                Table t = new Table("NAME", "TRANSPORT", "TARGET", "IDENTITY", "ACCESS", "SCOPE", "ENDPOINT");
                for (McpServers.Entry e : servers.servers().values()) {
                    String transport = e.stdio() ? (e.perUser() ? "stdio, per user" : "stdio") : "http";
                    String target = e.stdio() ? e.command() + (e.args().isEmpty() ? "" : " " + String.join(" ", e.args())) : e.url();
                    List<String> who = new java.util.ArrayList<>(e.users());
                    for (String d : e.domains()) who.add("@" + d);
                    for (String g : e.groups()) who.add("group " + g);
                    String access = who.isEmpty() ? "everyone" : String.join(", ", who);
                    t.row(e.name(), transport, target.length() > 60 ? target.substring(0, 57) + "..." : target, e.identity(), access,
                            e.scope() == null ? "-" : e.scope(), settings.mcpResource(e.name()));
                }
                t.print(cli.out);
                return 0;
            }
            case "check" -> {
                if (args.size() != 2) throw new UsageException("Give exactly one server name: servers check NAME.");
                String name = args.get(1);
                if (!servers.servers().containsKey(name)) {
                    cli.err.println("No server named '" + name + "' in " + (servers.source() == null ? "the servers file (there is none)" : servers.source())
                            + (servers.servers().isEmpty() ? "." : "; servers: " + String.join(", ", servers.servers().keySet()) + "."));
                    return 1;
                }
                try (Gateway gateway = new Gateway(settings, null, resource -> token -> null, Secrets.randomBytes(32), Clock.systemUTC(), null)) {
                    Gateway.Check c = gateway.check(name);
                    cli.out.println("Server:    " + c.name() + " (" + c.transport() + ")");
                    cli.out.println("Target:    " + c.target());
                    if (c.error() != null) {
                        cli.out.println("Result:    FAILED after " + c.millis() + " ms: " + c.error());
                        return 1;
                    }
                    cli.out.println("Era:       legacy, protocol version " + c.protocolVersion());
                    cli.out.println("Tools:     " + c.tools());
                    cli.out.println("Latency:   " + c.millis() + " ms (connect, initialize and tools/list)");
                    cli.out.println("Result:    ok");
                    return 0;
                }
            }
            case "reload" -> {
                if (args.size() != 1) throw new UsageException("servers reload takes no arguments.");
                return reload(settings, cli);
            }
            default -> throw new UsageException("Unknown servers command '" + sub + "'.");
        }
    }

    /** {@code servers reload}: the running server reads the servers file again; prints what changed, or each mistake. */
    private static int reload(Settings settings, Cli cli) {
        if (!settings.store.equals("file")) {
            cli.err.println("servers reload reaches the running server through its data directory (STORE=file). With STORE=" + settings.store
                    + ", send SIGHUP to each instance, or POST " + io.mcpoauth.ops.Operations.ADMIN_PREFIX + "/servers/reload with the ADMIN_TOKEN.");
            return 1;
        }
        String pid = io.mcpoauth.store.file.DataDirectory.runningServer(settings.dataDir);
        if (pid == null) {
            cli.err.println("No server is running on " + settings.dataDir.toAbsolutePath() + "; the servers file is read when it starts.");
            return 1;
        }
        com.fasterxml.jackson.databind.JsonNode r;
        try (RemoteAdmin admin = RemoteAdmin.connect(settings.dataDir.toAbsolutePath(), pid)) {
            r = admin.reloadServers();
        } catch (AdminException e) {
            cli.err.println(e.getMessage());
            return 1;
        }
        cli.out.println("Reloaded the servers file of the running server (pid " + pid + ").");
        for (String k : List.of("added", "removed", "changed", "unchanged")) {
            List<String> names = new java.util.ArrayList<>();
            r.path(k).forEach(n -> names.add(n.asText()));
            cli.out.printf("  %-10s %s%n", k + ":", names.isEmpty() ? "-" : String.join(", ", names));
        }
        r.path("notes").forEach(n -> cli.out.println("  note: " + n.asText()));
        return 0;
    }
}
