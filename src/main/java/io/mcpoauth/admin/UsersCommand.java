package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import io.mcpoauth.login.LocalAccounts;
import io.mcpoauth.login.PasswordHasher;
import io.mcpoauth.store.RefreshTokens;
import io.mcpoauth.store.Store;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.Users;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** {@code users add|passwd|remove|list}: local accounts, changed in the data directory while the server is stopped. */
public final class UsersCommand implements Command {
    @Override
    public String name() {
        return "users";
    }

    @Override
    public List<String> usage() {
        return List.of("users add NAME [--password-stdin]", "users passwd NAME [--password-stdin]", "users remove NAME", "users list");
    }

    @Override
    public int run(List<String> args, Cli cli) throws Exception {
        if (args.isEmpty()) throw new UsageException("Which users command? add, passwd, remove or list.");
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        Settings settings = cli.settings();
        try (Store store = Store.open(settings.dataDir)) {
            Users users = new Users(store);
            LocalAccounts accounts = new LocalAccounts(users, new PasswordHasher());
            try {
                return switch (sub) {
                    case "add" -> {
                        String name = oneName(rest, true);
                        UserRecord u = accounts.add(name, password(rest, cli), Instant.now());
                        cli.out.println("Added user '" + u.username() + "'.");
                        yield 0;
                    }
                    case "passwd" -> {
                        String name = oneName(rest, true);
                        accounts.setPassword(name, password(rest, cli));
                        cli.out.println("Changed the password of '" + LocalAccounts.normalizeName(name) + "'.");
                        yield 0;
                    }
                    case "remove" -> {
                        String name = LocalAccounts.normalizeName(oneName(rest, false));
                        String id = Users.localId(name);
                        if (!users.remove(id)) {
                            cli.err.println("There is no local user named '" + name + "'.");
                            yield 1;
                        }
                        int revoked = new RefreshTokens(store, settings.refreshTokenTtl).revokeIf(f -> id.equals(f.userId()));
                        cli.out.println("Removed user '" + name + "' and revoked " + revoked + " of their grants.");
                        yield 0;
                    }
                    case "list" -> {
                        if (!rest.isEmpty()) throw new UsageException("users list takes no arguments.");
                        list(users, cli);
                        yield 0;
                    }
                    default -> throw new UsageException("Unknown users command '" + sub + "'.");
                };
            } catch (LocalAccounts.AccountException e) {
                cli.err.println(e.getMessage());
                return 1;
            }
        }
    }

    private static void list(Users users, Cli cli) {
        List<UserRecord> all = new ArrayList<>(users.all());
        all.sort(Comparator.comparing(UserRecord::userId));
        if (all.isEmpty()) {
            cli.out.println("No users.");
            return;
        }
        Table t = new Table("USER", "PROVIDER", "EMAIL", "CREATED", "LAST SIGN-IN");
        for (UserRecord u : all) {
            t.row(u.username(), u.provider(), u.email(), Table.time(u.createdAt()), Table.time(u.lastLoginAt()));
        }
        t.print(cli.out);
    }

    private static String oneName(List<String> rest, boolean allowPasswordFlag) {
        List<String> names = new ArrayList<>();
        for (String a : rest) {
            if (a.equals("--password-stdin") && allowPasswordFlag) continue;
            if (a.startsWith("-")) throw new UsageException("Unknown option " + a + ".");
            names.add(a);
        }
        if (names.size() != 1) throw new UsageException("Give exactly one user name.");
        return names.get(0);
    }

    private static char[] password(List<String> rest, Cli cli) throws Exception {
        if (rest.contains("--password-stdin")) {
            String line = cli.readLine();
            if (line == null || line.isEmpty()) throw new UsageException("No password on standard input.");
            return line.toCharArray();
        }
        char[] p = cli.readPasswordTwice("Password");
        if (p == null) throw new UsageException("No terminal to ask for the password: pipe it in with --password-stdin.");
        return p;
    }
}
