package io.mcpoauth.admin;

import io.mcpoauth.store.Recovery;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code store check} and {@code store recover [--discard FILE]...}. */
public final class StoreCommand implements Command {
    @Override
    public String name() {
        return "store";
    }

    @Override
    public List<String> usage() {
        return List.of("store check", "store recover [--discard FILE]...");
    }

    @Override
    public int run(List<String> args, Cli cli) throws Exception {
        if (args.isEmpty()) throw new UsageException("Which store command? check or recover.");
        Path dir = cli.settings().dataDir;
        Recovery recovery = new Recovery();
        switch (args.get(0)) {
            case "check" -> {
                if (args.size() != 1) throw new UsageException("store check takes no arguments.");
                List<Recovery.FileState> states = recovery.check(dir);
                boolean ok = true;
                Table t = new Table("FILE", "STATE", "RECORDS", "PREVIOUS GENERATION");
                for (Recovery.FileState s : states) {
                    ok &= s.ok();
                    t.row(s.name(), s.ok() ? "ok" : "DAMAGED: " + s.problem(), s.ok() ? s.records() : "-", s.previousUsable() ? "usable" : "none");
                }
                if (states.isEmpty()) cli.out.println("No data files in " + dir.toAbsolutePath() + " yet.");
                else t.print(cli.out);
                if (!ok) cli.err.println("Some files are damaged; run: java -jar mcp-oauth-server.jar store recover");
                return ok ? 0 : 1;
            }
            case "recover" -> {
                List<String> discard = new ArrayList<>();
                for (int i = 1; i < args.size(); i++) {
                    if (args.get(i).equals("--discard") && i + 1 < args.size()) discard.add(args.get(++i));
                    else throw new UsageException("Unexpected argument " + args.get(i) + ".");
                }
                List<String> failed = recovery.recover(dir, discard, cli.out::println);
                if (!failed.isEmpty()) {
                    cli.err.println("Not recovered: " + String.join(", ", failed));
                    return 1;
                }
                cli.out.println("The data directory is ready; start the server.");
                return 0;
            }
            default -> throw new UsageException("Unknown store command '" + args.get(0) + "'.");
        }
    }
}
