package io.mcpoauth;

import io.mcpoauth.admin.Cli;
import io.mcpoauth.admin.Command;
import io.mcpoauth.admin.StoreCommand;
import io.mcpoauth.admin.UsageException;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.Settings;
import io.mcpoauth.store.StoreException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Entry point: {@code java -jar mcp-oauth-server.jar [command] [args]}; no command means {@code serve}. */
public final class Main {
    public static final String VERSION = versionOf();

    private Main() {}

    public static void main(String[] args) {
        int code = run(args, System.out, System.err, System.in, Settings::fromEnvironment);
        if (code != 0 || args.length > 0 && !args[0].equals("serve")) System.exit(code);
    }

    /** The commands, in the order --help lists them. Add new subcommands here. */
    static List<Command> commands() {
        return List.of(new ServeCommand(), new io.mcpoauth.admin.UsersCommand(), new io.mcpoauth.admin.ClientsCommand(), new io.mcpoauth.admin.ServersCommand(),
                new io.mcpoauth.admin.TokensCommand(), new io.mcpoauth.admin.ApiKeysCommand(), new StoreCommand());
    }

    static int run(String[] argv, PrintStream out, PrintStream err, InputStream in, Supplier<Settings> settings) {
        List<String> args = List.of(argv);
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : commands()) byName.put(c.name(), c);
        String first = args.isEmpty() ? "serve" : args.get(0);
        if (first.equals("--help") || first.equals("-h") || first.equals("help")) {
            out.print(help(byName));
            return 0;
        }
        if (first.equals("--version") || first.equals("-V")) {
            out.println("mcp-oauth-server " + VERSION);
            return 0;
        }
        Command cmd = byName.get(first);
        if (cmd == null) {
            err.println("Unknown command '" + first + "'. Run with --help to see the commands.");
            return 2;
        }
        Cli cli = new Cli(out, err, in, settings);
        try {
            return cmd.run(args.isEmpty() ? List.of() : args.subList(1, args.size()), cli);
        } catch (ConfigException e) {
            for (String line : e.lines()) err.println("Configuration error: " + line);
            return 2;
        } catch (UsageException e) {
            err.println(e.getMessage());
            err.println("Usage: " + String.join("\n       ", prefixed(cmd.usage())));
            return 2;
        } catch (StoreException e) {
            err.println(e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println(first + " failed: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            return 1;
        }
    }

    private static List<String> prefixed(List<String> usage) {
        List<String> out = new ArrayList<>();
        for (String u : usage) out.add("java -jar mcp-oauth-server.jar " + u);
        return out;
    }

    static String help(Map<String, Command> commands) {
        StringBuilder b = new StringBuilder();
        b.append("mcp-oauth-server ").append(VERSION).append(": an OAuth 2.1 authorization server and the MCP endpoint it protects.\n\n");
        b.append("Usage: java -jar mcp-oauth-server.jar [command]   (no command: serve)\n\nCommands:\n");
        for (Command c : commands.values()) {
            for (String u : c.usage()) b.append("  ").append(u).append('\n');
        }
        b.append("\nOptions:\n  --help      this text\n  --version   the version\n");
        b.append("\nSettings come from the environment and from .env in the working directory; see .env.example.\n");
        return b.toString();
    }

    private static String versionOf() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
