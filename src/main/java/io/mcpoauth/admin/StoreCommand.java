package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import io.mcpoauth.ops.AuditEvents;
import io.mcpoauth.ops.AuditLog;
import io.mcpoauth.ops.Metrics;
import io.mcpoauth.store.file.Backup;
import io.mcpoauth.store.file.DataDirectory;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.Recovery;
import io.mcpoauth.store.postgres.PgStores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code store check}, {@code store backup DIR}, {@code store recover [--discard FILE]...} and
 * {@code store migrate --to postgres | --from postgres}. With {@code STORE=file}: while a server runs, check and
 * backup go through it (the backup is then taken under its locks); recover refuses, it needs the server stopped. With
 * the server stopped, check reads the files without the lock and backup takes the lock itself. With
 * {@code STORE=postgres}, check and backup use the database directly (a backup is a consistent export in the file
 * backend's format). migrate copies every durable record between the data directory and an empty database.
 */
public final class StoreCommand implements Command {
    @Override
    public String name() {
        return "store";
    }

    @Override
    public List<String> usage() {
        return List.of("store check", "store backup DIR [--include-key]", "store recover [--discard FILE]...", "store migrate --to postgres | --from postgres");
    }

    @Override
    public int run(List<String> args, Cli cli) throws Exception {
        if (args.isEmpty()) throw new UsageException("Which store command? check, backup, recover or migrate.");
        Settings settings = cli.settings();
        Path dir = settings.dataDir;
        if (args.get(0).equals("migrate")) return StoreMigration.run(args.subList(1, args.size()), settings, cli);
        if (settings.store.equals("postgres") && !args.get(0).equals("recover")) return database(args, settings, cli);
        switch (args.get(0)) {
            case "check" -> {
                if (args.size() != 1) throw new UsageException("store check takes no arguments.");
                String pid = DataDirectory.runningServer(dir);
                Admin.StoreReport report;
                if (pid != null) {
                    try (Admin admin = RemoteAdmin.connect(dir.toAbsolutePath(), pid)) {
                        report = admin.checkStore();
                    } catch (AdminException e) {
                        cli.err.println(e.getMessage());
                        return 1;
                    }
                } else {
                    List<Admin.FileInfo> files = new ArrayList<>();
                    for (Recovery.FileState s : new Recovery().check(dir)) {
                        files.add(new Admin.FileInfo(s.name(), s.ok(), s.problem(), s.records(), s.previousUsable()));
                    }
                    report = new Admin.StoreReport(dir.toAbsolutePath().toString(), true, files);
                }
                return printCheck(report, pid, cli);
            }
            case "backup" -> {
                boolean includeKey = args.contains("--include-key");
                List<String> rest = args.subList(1, args.size()).stream().filter(a -> !a.equals("--include-key")).toList();
                if (rest.size() != 1 || rest.get(0).startsWith("--")) throw new UsageException("Give the directory to write the backup to.");
                Path target = Path.of(rest.get(0)).toAbsolutePath().normalize();
                String pid = DataDirectory.runningServer(dir);
                Admin.BackupReport report;
                if (pid != null) {
                    try (Admin admin = RemoteAdmin.connect(dir.toAbsolutePath(), pid)) {
                        report = admin.backup(target.toString(), includeKey);
                    } catch (AdminException e) {
                        cli.err.println(e.getMessage());
                        return 1;
                    }
                } else {
                    try (FileStore store = FileStore.open(dir)) {
                        Backup.Result r = store.backup(target, includeKey);
                        List<Admin.BackupFile> files = new ArrayList<>();
                        for (Backup.File f : r.files()) files.add(new Admin.BackupFile(f.name(), f.records(), f.bytes()));
                        report = new Admin.BackupReport(r.dir().toString(), r.takenAt(), files, r.keyLeftOut());
                    }
                    if (settings.auditLog != null) {
                        new AuditEvents(AuditLog.toFile(settings.auditLog, Clock.systemUTC()), new Metrics()).backupTaken(report.dir(), report.files().size());
                    }
                }
                cli.out.println("Backed up " + report.files().size() + " files to " + report.dir() + " (" + (pid != null
                        ? "taken by the running server, pid " + pid : "server stopped") + "; consistent as of " + report.takenAt() + "):");
                Table t = new Table("FILE", "RECORDS", "BYTES");
                for (Admin.BackupFile f : report.files()) t.row(f.name(), f.records() < 0 ? "-" : f.records(), f.bytes());
                t.print(cli.out);
                if (report.keyLeftOut()) {
                    cli.out.println("encryption.key was left out: it decrypts the provider tokens in upstream_tokens.json, so keep it apart"
                            + " from this backup (or set ENCRYPTION_KEY), and copy it back when you restore. --include-key copies it too.");
                }
                cli.out.println("To restore: stop the server, copy these files into an empty data directory (OAUTH_DATA_DIR), start it.");
                return 0;
            }
            case "recover" -> {
                List<String> discard = new ArrayList<>();
                for (int i = 1; i < args.size(); i++) {
                    if (args.get(i).equals("--discard") && i + 1 < args.size()) discard.add(args.get(++i));
                    else throw new UsageException("Unexpected argument " + args.get(i) + ".");
                }
                String pid = DataDirectory.runningServer(dir);
                if (pid != null) {
                    cli.err.println("The server (pid " + pid + ") is running on " + dir.toAbsolutePath() + "; stop it before recovering.");
                    return 1;
                }
                List<String> failed = new Recovery().recover(dir, discard, cli.out::println);
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

    /** check and backup with STORE=postgres. */
    private static int database(List<String> args, Settings settings, Cli cli) {
        switch (args.get(0)) {
            case "check" -> {
                if (args.size() != 1) throw new UsageException("store check takes no arguments.");
                try (PgStores pg = AdminService.openDatabase(settings)) {
                    int[] v = pg.schemaVersion();
                    Table t = new Table("TABLE", "ROWS");
                    pg.tableCounts().forEach(t::row);
                    t.print(cli.out);
                    cli.out.println(pg.describe() + ": schema version " + v[0] + " (usable from server schema " + v[1] + "); "
                            + pg.serverConnections() + " connections of running instances.");
                    String problem = pg.problem();
                    if (problem != null) {
                        cli.err.println(problem);
                        return 1;
                    }
                    return 0;
                }
            }
            case "backup" -> {
                if (args.size() != 2 || args.get(1).startsWith("--")) throw new UsageException("Give the directory to write the backup to.");
                Path target = Path.of(args.get(1)).toAbsolutePath().normalize();
                Admin.BackupReport report;
                try (PgStores pg = AdminService.openDatabase(settings)) {
                    report = AdminService.exportTo(pg, target, Clock.systemUTC());
                } catch (AdminException e) {
                    cli.err.println(e.getMessage());
                    return 1;
                }
                if (settings.auditLog != null) {
                    new AuditEvents(AuditLog.toFile(settings.auditLog, Clock.systemUTC()), new Metrics()).backupTaken(report.dir(), report.files().size());
                }
                cli.out.println("Exported the database to " + report.dir() + " in the data directory format (one consistent view, as of "
                        + report.takenAt() + "):");
                Table t = new Table("FILE", "RECORDS", "BYTES");
                for (Admin.BackupFile f : report.files()) t.row(f.name(), f.records(), f.bytes());
                t.print(cli.out);
                cli.out.println("To restore: store migrate --to postgres with OAUTH_DATA_DIR=" + report.dir() + " into an empty database, or run a "
                        + "single server on it with STORE=file. Access tokens, codes and browser sessions are not exported: clients refresh.");
                return 0;
            }
            default -> throw new UsageException("Unknown store command '" + args.get(0) + "'.");
        }
    }

    private static int printCheck(Admin.StoreReport report, String pid, Cli cli) {
        boolean ok = true;
        boolean recoverable = false;
        boolean unreadable = false;
        boolean notAFile = false;
        boolean newer = false;
        Table t = new Table("FILE", "STATE", "RECORDS", "PREVIOUS GENERATION");
        for (Admin.FileInfo s : report.files()) {
            ok &= s.ok();
            String kind = s.ok() ? "ok" : kindOf(s.problem());
            switch (kind) {
                case "ok" -> { }
                case "unreadable", "journal unreadable" -> unreadable = true;
                case "not a file" -> notAFile = true;
                case "newer format" -> newer = true;
                default -> recoverable = true;
            }
            t.row(s.name(), s.ok() ? "ok" : label(s.problem()), s.ok() ? s.records() : "-", s.previousUsable() ? "usable" : "none");
        }
        if (report.files().isEmpty()) cli.out.println("No data files in " + report.dir() + " yet.");
        else t.print(cli.out);
        if (pid != null) {
            cli.out.println("Checked through the running server (pid " + pid + "); its writes are "
                    + (report.writesHealthy() ? "healthy." : "FAILING (its log says why; it retries by itself every few seconds)."));
        }
        String stop = pid != null ? "stop the server, then " : "";
        if (recoverable) {
            cli.err.println("Some files are damaged or missing; " + stop + "run: java -jar mcp-oauth-server.jar store recover"
                    + " (it lists every refresh-token family whose state goes back).");
        }
        if (unreadable) {
            cli.err.println("Some files cannot be read by the user running the server. That is not damage and store recover changes"
                    + " nothing there: give them back to that user (chown, chmod 600).");
        }
        if (notAFile) cli.err.println("Something other than a data file is in the place of one: move it out of the way, then run store recover.");
        if (newer) cli.err.println("A file was written by a newer version of mcp-oauth-server: run that version, or restore a backup this one wrote.");
        if (ok && !report.writesHealthy()) cli.err.println("The server cannot write durably right now; see its log.");
        return ok && report.writesHealthy() ? 0 : 1;
    }

    /** The kind of problem: the words before the first colon ("damaged", "missing", "unreadable"...). */
    private static String kindOf(String problem) {
        if (problem == null) return "damaged";
        int colon = problem.indexOf(':');
        String kind = colon > 0 ? problem.substring(0, colon) : problem;
        return switch (kind) {
            case "missing", "damaged", "unreadable", "not a file", "newer format", "journal damaged", "journal unreadable" -> kind;
            default -> "damaged";
        };
    }

    /** "MISSING: it is listed in .manifest ...", "DAMAGED: its checksum ...". */
    private static String label(String problem) {
        String kind = kindOf(problem);
        if (problem != null && problem.startsWith(kind + ":")) return kind.toUpperCase(Locale.ROOT) + problem.substring(kind.length());
        return "DAMAGED: " + problem;
    }
}
