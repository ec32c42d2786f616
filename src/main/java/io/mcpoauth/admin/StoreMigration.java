package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.Contents;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.TokenCipher;
import io.mcpoauth.store.file.DataDirectory;
import io.mcpoauth.store.file.EncryptionKeys;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.postgres.PgStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * {@code store migrate --to postgres}: every durable record of the data directory ({@code OAUTH_DATA_DIR}) into the
 * empty database of {@code DATABASE_URL}, in one transaction; {@code --from postgres}: the database into an empty data
 * directory. Refresh tokens, client registrations, users, consents, API keys, notes and upstream tokens (ciphertexts as
 * they are) move, so nobody signs in again; access tokens and sign-ins in flight do not (clients refresh). Both sides
 * are counted afterwards and must agree.
 */
final class StoreMigration {
    private StoreMigration() {}

    static int run(List<String> args, Settings settings, Cli cli) {
        if (args.size() != 2 || !args.get(1).equals("postgres") || !(args.get(0).equals("--to") || args.get(0).equals("--from"))) {
            throw new UsageException("store migrate --to postgres (data directory -> database) or --from postgres (database -> data directory).");
        }
        if (settings.databaseUrl.isEmpty()) {
            throw new UsageException("Set DATABASE_URL to the database (postgresql://user@host:5432/database); OAUTH_DATA_DIR names the data directory.");
        }
        Path dir = settings.dataDir.toAbsolutePath().normalize();
        String pid = DataDirectory.runningServer(dir);
        if (pid != null) {
            cli.err.println("A server (pid " + pid + ") is running on " + dir + "; stop it first, so that nothing changes while the records are copied.");
            return 1;
        }
        return args.get(0).equals("--to") ? toDatabase(settings, dir, cli) : fromDatabase(settings, dir, cli);
    }

    private static int toDatabase(Settings settings, Path dir, Cli cli) {
        if (!Files.isDirectory(dir)) {
            cli.err.println("There is no data directory " + dir + " (OAUTH_DATA_DIR).");
            return 1;
        }
        Contents contents;
        try (FileStores files = FileStores.open(dir)) {
            contents = files.awaitLoaded().contents();
        }
        String keyAdvice = keyAdvice(settings, dir, contents, cli);
        if (keyAdvice == null) return 1;
        try (PgStores pg = AdminService.openDatabase(settings)) {
            int running = pg.serverConnections();
            if (running > 0) {
                cli.err.println(pg.describe() + " has " + running + " connections of running instances; stop them before migrating into it.");
                return 1;
            }
            pg.load(contents);
            Map<String, Integer> copied = pg.contents().counts();
            if (!copied.equals(contents.counts())) {
                cli.err.println("The database holds " + copied + " after the copy, but the data directory had " + contents.counts() + ".");
                return 1;
            }
            print(cli, "Copied " + dir + " into " + pg.describe() + ":", copied);
        }
        cli.out.println(keyAdvice);
        cli.out.println("Now start every instance with STORE=postgres and this DATABASE_URL. The data directory is no longer used; keep it as a "
                + "backup until the instances run. Clients refresh with the refresh tokens they hold.");
        return 0;
    }

    private static int fromDatabase(Settings settings, Path dir, Cli cli) {
        try (PgStores pg = AdminService.openDatabase(settings)) {
            int running = pg.serverConnections();
            if (running > 0) {
                cli.err.println(pg.describe() + " has " + running + " connections of running instances; stop them first, so that no refresh "
                        + "after the copy is lost (a backup while they run: store backup DIR with STORE=postgres).");
                return 1;
            }
            Admin.BackupReport r;
            try {
                r = AdminService.exportTo(pg, dir, java.time.Clock.systemUTC());
            } catch (AdminException e) {
                cli.err.println(e.getMessage());
                return 1;
            }
            Map<String, Integer> copied;
            try (FileStores files = FileStores.open(dir)) {
                copied = files.awaitLoaded().contents().counts();
            }
            Map<String, Integer> source = pg.contents().counts();
            if (!copied.equals(source)) {
                cli.err.println("The data directory holds " + copied + " after the copy, but the database has " + source + ".");
                return 1;
            }
            print(cli, "Copied " + pg.describe() + " into " + r.dir() + ":", copied);
        } catch (StoreException e) {
            cli.err.println(e.getMessage());
            return 1;
        }
        if (!settings.value(Settings.ENCRYPTION_KEY).isEmpty()) {
            cli.out.println("Keep ENCRYPTION_KEY set for the server (the upstream tokens stay encrypted with it).");
        }
        cli.out.println("Now start the server with STORE=file and OAUTH_DATA_DIR=" + dir + ".");
        return 0;
    }

    /**
     * What to tell about the key of the upstream tokens, or null (after printing why) when the configured key is not
     * the one that encrypted them. With the database, the key must come from ENCRYPTION_KEY on every instance.
     */
    private static String keyAdvice(Settings settings, Path dir, Contents contents, Cli cli) {
        String configured = settings.value(Settings.ENCRYPTION_KEY);
        Path file = dir.resolve(EncryptionKeys.KEY_FILE);
        TreeSet<String> used = new TreeSet<>();
        for (IdpTokenRecord t : contents.idpTokens()) used.add(String.valueOf(t.keyId()));
        // users' connections are encrypted with the same key
        for (io.mcpoauth.store.ConnectionRecord c : contents.connections()) used.add(String.valueOf(c.keyId()));
        String keyId = null;
        String source = null;
        if (!configured.isEmpty()) {
            keyId = keyId(configured);
            source = "ENCRYPTION_KEY";
        } else if (Files.exists(file)) {
            try {
                keyId = keyId(Files.readString(file, StandardCharsets.US_ASCII).strip());
            } catch (IOException e) {
                cli.err.println("Cannot read " + file + ": " + e.getMessage());
                return null;
            }
            source = file.toString();
        }
        int stored = contents.idpTokens().size() + contents.connections().size();
        if (stored == 0) {
            return "No upstream tokens were stored. With an identity provider, set the same ENCRYPTION_KEY (openssl rand -base64 32) on every instance.";
        }
        if (keyId == null || used.size() != 1 || !used.contains(keyId)) {
            cli.err.println(stored + " upstream tokens and connections are encrypted with key id " + String.join(", ", used) + ", but "
                    + (source == null ? "neither ENCRYPTION_KEY nor " + file + " holds a key" : source + " holds key id " + keyId)
                    + ". Set ENCRYPTION_KEY to the key that encrypted them; nothing was copied.");
            return null;
        }
        if (source.equals("ENCRYPTION_KEY")) return "The upstream tokens stay readable with the ENCRYPTION_KEY that is set: set it on every instance.";
        return "The upstream tokens are encrypted with the key in " + file + ": set ENCRYPTION_KEY to that file's content on every instance "
                + "(the database holds no key).";
    }

    private static String keyId(String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            try {
                key = Base64.getUrlDecoder().decode(base64);
            } catch (IllegalArgumentException e2) {
                return "(not a base64 key)";
            }
        }
        if (key.length != TokenCipher.KEY_BYTES) return "(not a 32-byte key)";
        return TokenCipher.keyIdOf(key);
    }

    private static void print(Cli cli, String title, Map<String, Integer> counts) {
        cli.out.println(title);
        Table t = new Table("RECORDS", "COUNT");
        counts.forEach(t::row);
        t.print(cli.out);
    }
}
