package io.mcpoauth.admin;

import java.util.List;
import java.util.Set;

/** {@code tokens list [--user U] [--client C]} and {@code tokens revoke --user U | --client C | --family F}. */
public final class TokensCommand extends AdminCommand {
    @Override
    public String name() {
        return "tokens";
    }

    @Override
    public List<String> usage() {
        return List.of("tokens list [--user USER] [--client CLIENT_ID]", "tokens revoke --user USER | --client CLIENT_ID | --family FAMILY_ID");
    }

    @Override
    void validate(List<String> args) {
        String sub = sub(args, "tokens (list or revoke)");
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "list" -> {
                Options o = options(rest, Set.of("--user", "--client"), Set.of());
                if (!o.words().isEmpty()) throw new UsageException("Unexpected argument " + o.words().get(0) + ".");
            }
            case "revoke" -> {
                Options o = options(rest, Set.of("--user", "--client", "--family"), Set.of());
                if (!o.words().isEmpty()) throw new UsageException("Unexpected argument " + o.words().get(0) + ".");
                if (o.values().size() != 1) throw new UsageException("Give exactly one of --user, --client or --family.");
            }
            default -> throw new UsageException("Unknown tokens command '" + sub + "'.");
        }
    }

    @Override
    int run(List<String> args, Cli cli, Admin admin) {
        List<String> rest = args.subList(1, args.size());
        if (args.get(0).equals("list")) {
            Options o = options(rest, Set.of("--user", "--client"), Set.of());
            List<Admin.GrantInfo> grants = admin.grants(o.one("--user"), o.one("--client"));
            if (grants.isEmpty()) {
                cli.out.println("No grants" + (o.values().isEmpty() ? "." : " match."));
                return 0;
            }
            table(grants, true).print(cli.out);
            return 0;
        }
        Options o = options(rest, Set.of("--user", "--client", "--family"), Set.of());
        Admin.Revoked r = admin.revokeGrants(o.one("--user"), o.one("--client"), o.one("--family"));
        if (r.grants() == 0) {
            cli.out.println("Nothing to revoke: no grant matches.");
        } else {
            cli.out.println("Revoked " + plural(r.grants(), "grant", "grants") + " (refresh-token families) and their access tokens;"
                    + " the clients must sign in again.");
        }
        return 0;
    }

    /** Grants as a table; without the client columns when they are all one client's. */
    static Table table(List<Admin.GrantInfo> grants, boolean withClient) {
        Table t = withClient
                ? new Table("FAMILY", "USER", "CLIENT ID", "CLIENT NAME", "SCOPE", "CREATED", "LAST REFRESH", "EXPIRES")
                : new Table("FAMILY", "USER", "SCOPE", "CREATED", "LAST REFRESH", "EXPIRES");
        for (Admin.GrantInfo g : grants) {
            String user = g.username() != null ? g.username() : g.userId();
            String refreshed = g.rotations() == 0 ? "never" : Table.time(g.rotatedAt());
            if (withClient) {
                t.row(g.familyId(), user, g.clientId(), g.clientName(), g.scope(), Table.time(g.createdAt()), refreshed, Table.time(g.expiresAt()));
            } else {
                t.row(g.familyId(), user, g.scope(), Table.time(g.createdAt()), refreshed, Table.time(g.expiresAt()));
            }
        }
        return t;
    }
}
