package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import io.mcpoauth.ops.AuditEvents;
import io.mcpoauth.ops.AuditLog;
import io.mcpoauth.ops.Metrics;
import io.mcpoauth.store.file.DataDirectory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command that works whether or not the server runs: while a server holds the data directory's lock, the command
 * goes through that server's loopback admin port with the credential it left in {@code .oauth_data/.admin-api.json}
 * (readable by its user only); otherwise it opens and locks the data directory itself. With {@code STORE=postgres} it
 * uses the database directly. A refusal prints one line and exits 1.
 */
abstract class AdminCommand implements Command {

    abstract int run(List<String> args, Cli cli, Admin admin) throws Exception;

    @Override
    public final int run(List<String> args, Cli cli) throws Exception {
        validate(args);
        try (Admin admin = open(cli.settings())) {
            return run(args, cli, admin);
        } catch (AdminException e) {
            cli.err.println(e.getMessage());
            return 1;
        }
    }

    /** Checks the arguments before anything is opened; throws {@link UsageException}. */
    abstract void validate(List<String> args);

    /**
     * With {@code STORE=file}: the running server's admin API, or the data directory opened here. With
     * {@code STORE=postgres}: the database, opened here whether or not instances run (they share it).
     */
    static Admin open(Settings settings) {
        if (settings.store.equals("file")) {
            String pid = DataDirectory.runningServer(settings.dataDir);
            if (pid != null) return RemoteAdmin.connect(settings.dataDir.toAbsolutePath(), pid);
        }
        io.mcpoauth.core.Events events = settings.auditLog == null ? io.mcpoauth.core.Events.NONE
                : new AuditEvents(AuditLog.toFile(settings.auditLog, Clock.systemUTC()), new Metrics());
        return AdminService.open(settings, Clock.systemUTC(), events);
    }

    /** Parsed {@code --name value} options (each at most once unless repeatable) and the remaining words. */
    record Options(Map<String, List<String>> values, List<String> words) {
        String one(String name) {
            List<String> v = values.get(name);
            return v == null ? null : v.get(0);
        }

        List<String> all(String name) {
            return values.getOrDefault(name, List.of());
        }
    }

    static Options options(List<String> args, Set<String> single, Set<String> repeatable) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                words.add(a);
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!single.contains(name) && !repeatable.contains(name)) throw new UsageException("Unknown option " + name + ".");
            if (value == null) {
                if (i + 1 >= args.size()) throw new UsageException(name + " needs a value.");
                value = args.get(++i);
            }
            if (value.isBlank()) throw new UsageException(name + " needs a value.");
            List<String> list = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (!list.isEmpty() && single.contains(name)) throw new UsageException(name + " may be given once.");
            list.add(value);
        }
        return new Options(values, words);
    }

    static String sub(List<String> args, String what) {
        if (args.isEmpty()) throw new UsageException("Which " + what + " command?");
        return args.get(0);
    }

    static String plural(int n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }
}
