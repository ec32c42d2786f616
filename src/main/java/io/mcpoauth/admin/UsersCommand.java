package io.mcpoauth.admin;

import java.util.ArrayList;
import java.util.List;

/** {@code users add|passwd|remove|list}: accounts, through the running server or in the data directory when it is stopped. */
public final class UsersCommand extends AdminCommand {
    @Override
    public String name() {
        return "users";
    }

    @Override
    public List<String> usage() {
        return List.of("users add NAME [--password-stdin]", "users passwd NAME [--password-stdin] [--revoke]", "users remove NAME", "users list");
    }

    @Override
    void validate(List<String> args) {
        String sub = sub(args, "users (add, passwd, remove or list)");
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "add" -> oneName(rest, true);
            case "passwd" -> oneName(rest.stream().filter(a -> !a.equals("--revoke")).toList(), true);
            case "remove" -> oneName(rest, false);
            case "list" -> {
                if (!rest.isEmpty()) throw new UsageException("users list takes no arguments.");
            }
            default -> throw new UsageException("Unknown users command '" + sub + "'.");
        }
    }

    @Override
    int run(List<String> args, Cli cli, Admin admin) throws Exception {
        List<String> rest = args.subList(1, args.size());
        switch (args.get(0)) {
            case "add" -> {
                String name = oneName(rest, true);
                Admin.UserInfo u = admin.addUser(name, password(rest, cli));
                cli.out.println("Added user '" + u.username() + "'.");
                return 0;
            }
            case "passwd" -> {
                boolean revoke = rest.contains("--revoke");
                String name = oneName(rest.stream().filter(a -> !a.equals("--revoke")).toList(), true);
                Admin.UserInfo u = admin.setPassword(name, password(rest, cli), revoke);
                cli.out.println("Changed the password of '" + u.username() + "': every browser session of theirs has ended"
                        + (revoke ? ", and so has every sign-in of their applications (each must sign in again)." : "; their applications stay signed in"
                        + " (add --revoke to end those too)."));
                return 0;
            }
            case "remove" -> {
                Admin.UserRemoved r = admin.removeUser(oneName(rest, false));
                String name = r.userId().startsWith("local:") ? r.userId().substring(6) : r.userId();
                cli.out.println("Removed user '" + name + "' and revoked " + r.grantsRevoked() + " of their grants and "
                        + plural(r.apiKeysRevoked(), "API key", "API keys") + ".");
                return 0;
            }
            default -> {
                List<Admin.UserInfo> all = admin.users();
                if (all.isEmpty()) {
                    cli.out.println("No users.");
                    return 0;
                }
                Table t = new Table("USER", "PROVIDER", "EMAIL", "CREATED", "LAST SIGN-IN");
                for (Admin.UserInfo u : all) {
                    t.row(u.username(), u.provider(), u.email(), Table.time(u.createdAt()), Table.time(u.lastLoginAt()));
                }
                t.print(cli.out);
                return 0;
            }
        }
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
