package io.mcpoauth.admin;

import java.util.List;
import java.util.Set;

/** {@code clients list | show ID | remove ID}: who is registered, their grants, and removing one with everything it holds. */
public final class ClientsCommand extends AdminCommand {
    @Override
    public String name() {
        return "clients";
    }

    @Override
    public List<String> usage() {
        return List.of("clients list", "clients show CLIENT_ID", "clients remove CLIENT_ID");
    }

    @Override
    void validate(List<String> args) {
        String sub = sub(args, "clients (list, show or remove)");
        Options o = options(args.subList(1, args.size()), Set.of(), Set.of());
        switch (sub) {
            case "list" -> {
                if (!o.words().isEmpty()) throw new UsageException("clients list takes no arguments.");
            }
            case "show", "remove" -> {
                if (o.words().size() != 1) throw new UsageException("Give exactly one client id.");
            }
            default -> throw new UsageException("Unknown clients command '" + sub + "'.");
        }
    }

    @Override
    int run(List<String> args, Cli cli, Admin admin) {
        switch (args.get(0)) {
            case "list" -> {
                List<Admin.ClientInfo> clients = admin.clients();
                if (clients.isEmpty()) {
                    cli.out.println("No clients.");
                    return 0;
                }
                Table t = new Table("CLIENT ID", "NAME", "AUTH", "GRANTS", "CREATED", "LAST USED");
                for (Admin.ClientInfo c : clients) {
                    t.row(c.clientId(), c.clientName(), c.authMethod(), c.grants(), Table.time(c.createdAt()), Table.time(c.lastUsedAt()));
                }
                t.print(cli.out);
                return 0;
            }
            case "show" -> {
                Admin.ClientDetail d = admin.client(args.get(1));
                Admin.ClientInfo c = d.client();
                cli.out.println("Client ID:      " + c.clientId());
                cli.out.println("Name:           " + dash(c.clientName()));
                cli.out.println("Registered:     " + (c.registered() ? "yes" : "no (known only by its grants)"));
                cli.out.println("Auth method:    " + dash(c.authMethod()));
                for (int i = 0; i < c.redirectUris().size(); i++) {
                    cli.out.println((i == 0 ? "Redirect URIs:  " : "                ") + c.redirectUris().get(i));
                }
                cli.out.println("Created:        " + Table.time(c.createdAt()));
                cli.out.println("Last used:      " + Table.time(c.lastUsedAt()));
                cli.out.println("Consent given:  " + (d.consentedUsers().isEmpty() ? "-" : String.join(", ", d.consentedUsers())));
                cli.out.println();
                if (d.grants().isEmpty()) {
                    cli.out.println("No grants.");
                } else {
                    TokensCommand.table(d.grants(), false).print(cli.out);
                }
                return 0;
            }
            default -> {
                Admin.ClientRemoved r = admin.removeClient(args.get(1));
                cli.out.println("Removed " + (r.registered() ? "client " : "the grants of client ") + r.clientId() + ": revoked "
                        + plural(r.grantsRevoked(), "grant", "grants") + " (with their access tokens) and forgot "
                        + plural(r.consentsRemoved(), "consent", "consents") + ".");
                return 0;
            }
        }
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
