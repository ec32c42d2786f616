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
        return List.of("store check", "store backup DIR", "store recover [--discard FILE]...", "store migrate --to postgres | --from postgres");
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
                if (args.size() != 2 || args.get(1).startsWith("--")) throw new UsageException("Give the directory to write the backup to.");
                Path target = Path.of(args.get(1)).toAbsolutePath().normalize();
                String pid = DataDirectory.runningServer(dir);
                Admin.BackupReport report;
                if (pid != null) {
                    try (Admin admin = RemoteAdmin.connect(dir.toAbsolutePath(), pid)) {
                        report = admin.backup(target.toString());
                    } catch (AdminException e) {
                        cli.err.println(e.getMessage());
                        return 1;
                    }
                } else {
                    try (FileStore store = FileStore.open(dir)) {
                        Backup.Result r = store.backup(target);
                        List<Admin.BackupFile> files = new ArrayList<>();
                        for (Backup.File f : r.files()) files.add(new Admin.BackupFile(f.name(), f.records(), f.bytes()));
                        report = new Admin.BackupReport(r.dir().toString(), r.takenAt(), files);
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
        Table t = new Table("FILE", "STATE", "RECORDS", "PREVIOUS GENERATION");
        for (Admin.FileInfo s : report.files()) {
            ok &= s.ok();
            t.row(s.name(), s.ok() ? "ok" : "DAMAGED: " + s.problem(), s.ok() ? s.records() : "-", s.previousUsable() ? "usable" : "none");
        }
        if (report.files().isEmpty()) cli.out.println("No data files in " + report.dir() + " yet.");
        else t.print(cli.out);
        if (pid != null) {
            cli.out.println("Checked through the running server (pid " + pid + "); its writes are "
                    + (report.writesHealthy() ? "healthy." : "FAILING (see its log)."));
        }
        if (!ok) {
            cli.err.println("Some files are damaged; " + (pid != null ? "stop the server, then " : "") + "run: java -jar mcp-oauth-server.jar store recover");
        } else if (!report.writesHealthy()) {
            cli.err.println("The server cannot write durably right now; see its log.");
        }
        return ok && report.writesHealthy() ? 0 : 1;
    }
}
