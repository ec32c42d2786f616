package io.mcpoauth.admin;

import java.util.List;
import java.util.Set;

/** {@code apikeys create --user U --name N [--scope S]...}, {@code apikeys list}, {@code apikeys revoke ID}. */
public final class ApiKeysCommand extends AdminCommand {
    private static final Set<String> CREATE_SINGLE = Set.of("--user", "--name");
    private static final Set<String> CREATE_REPEATED = Set.of("--scope");

    @Override
    public String name() {
        return "apikeys";
    }

    @Override
    public List<String> usage() {
        return List.of("apikeys create --user USER --name NAME [--scope SCOPE]...", "apikeys list", "apikeys revoke ID");
    }

    @Override
    void validate(List<String> args) {
        String sub = sub(args, "apikeys (create, list or revoke)");
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "create" -> {
                Options o = options(rest, CREATE_SINGLE, CREATE_REPEATED);
                if (!o.words().isEmpty()) throw new UsageException("Unexpected argument " + o.words().get(0) + ".");
                if (o.one("--user") == null || o.one("--name") == null) throw new UsageException("Give --user and --name.");
            }
            case "list" -> {
                if (!rest.isEmpty()) throw new UsageException("apikeys list takes no arguments.");
            }
            case "revoke" -> {
                if (rest.size() != 1 || rest.get(0).startsWith("--")) throw new UsageException("Give exactly one API key id.");
            }
            default -> throw new UsageException("Unknown apikeys command '" + sub + "'.");
        }
    }

    @Override
    int run(List<String> args, Cli cli, Admin admin) {
        List<String> rest = args.subList(1, args.size());
        switch (args.get(0)) {
            case "create" -> {
                Options o = options(rest, CREATE_SINGLE, CREATE_REPEATED);
                Admin.ApiKeyCreated c = admin.createApiKey(o.one("--user"), o.one("--name"), o.all("--scope"));
                Admin.ApiKeyInfo k = c.apiKey();
                cli.out.println("Created API key '" + k.name() + "' (id " + k.id() + ") for " + (k.username() != null ? k.username() : k.userId())
                        + " with the scopes: " + String.join(" ", k.scopes()));
                cli.out.println("The key is shown only this once; store it now:");
                cli.out.println();
                cli.out.println("  " + c.key());
                cli.out.println();
                cli.out.println("Clients send it as the header  Authorization: Bearer <key>  to /mcp. Revoke it with: apikeys revoke " + k.id());
                return 0;
            }
            case "list" -> {
                List<Admin.ApiKeyInfo> keys = admin.apiKeys();
                if (keys.isEmpty()) {
                    cli.out.println("No API keys.");
                    return 0;
                }
                Table t = new Table("ID", "KEY", "NAME", "USER", "SCOPES", "CREATED", "LAST USED");
                for (Admin.ApiKeyInfo k : keys) {
                    t.row(k.id(), k.prefix() + ".…", k.name(), k.username() != null ? k.username() : k.userId(), String.join(" ", k.scopes()),
                            Table.time(k.createdAt()), k.lastUsedAt() == null ? "never" : Table.time(k.lastUsedAt()));
                }
                t.print(cli.out);
                return 0;
            }
            default -> {
                Admin.ApiKeyInfo k = admin.revokeApiKey(rest.get(0));
                cli.out.println("Revoked API key " + k.id() + " ('" + k.name() + "' of " + (k.username() != null ? k.username() : k.userId())
                        + "); requests with it are refused from now on.");
                return 0;
            }
        }
    }
}
