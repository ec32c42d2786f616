package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Events;
import io.mcpoauth.login.LocalAccounts;
import io.mcpoauth.login.PasswordHasher;
import io.mcpoauth.oauth.AccessTokens;
import io.mcpoauth.oauth.ApiKeys;
import io.mcpoauth.oauth.GrantLifecycle;
import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import io.mcpoauth.store.file.Backup;
import io.mcpoauth.store.file.FileStore;
import io.mcpoauth.store.file.FileStores;
import io.mcpoauth.store.file.Recovery;
import io.mcpoauth.store.postgres.PgStores;
import java.nio.file.Files;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The administrative operations on an open store: inside the running server (behind {@code /admin/api}, with its
 * live access tokens) or in a command while the server is stopped (then it owns the store it opened).
 */
public final class AdminService implements Admin {
    private final Settings settings;
    private final Clock clock;
    private final Stores stores;
    private final FileStore files;
    private final boolean ownsStore;
    private final GrantLifecycle lifecycle;
    private final ClientStore clients;
    private final GrantStore grants;
    private final UserStore users;
    private final ApiKeys apiKeys;
    private final Events events;
    private final String where;
    private static final PasswordHasher PASSWORDS = new PasswordHasher();

    /**
     * @param files     the data directory of the file backend (store check and backup), or null for another backend
     * @param lifecycle the running server's (its live access tokens and browser sessions end with what they belong to)
     */
    public AdminService(Settings settings, Clock clock, Stores stores, FileStore files, GrantLifecycle lifecycle, Events events, String where) {
        this(settings, clock, stores, files, false, lifecycle, events, where);
    }

    private AdminService(Settings settings, Clock clock, Stores stores, FileStore files, boolean ownsStore, GrantLifecycle lifecycle,
                         Events events, String where) {
        this.settings = settings;
        this.clock = clock;
        this.stores = stores;
        this.files = files;
        this.ownsStore = ownsStore;
        this.lifecycle = lifecycle;
        this.clients = stores.clients();
        this.grants = stores.grants();
        this.users = stores.users();
        this.apiKeys = new ApiKeys(stores.apiKeys());
        this.events = events;
        this.where = where;
    }

    /**
     * Opens the store itself, for commands: with {@code STORE=file} it locks the data directory (so the server is
     * stopped, and no access token is live); with {@code STORE=postgres} it uses the database alongside the running
     * instances, and its cascades reach their access tokens, sessions and codes, which live there too.
     */
    public static AdminService open(Settings settings, Clock clock, Events events) {
        Stores stores = openStores(settings);
        try {
            FileStore files = null;
            if (stores instanceof FileStores f) files = f.awaitLoaded().files();
            GrantLifecycle lifecycle = new GrantLifecycle(stores, new AccessTokens(stores.accessTokens()), events);
            return new AdminService(settings, clock, stores, files, true, lifecycle, events, stores.describe());
        } catch (RuntimeException e) {
            stores.close();
            throw e;
        }
    }

    /** What a command opens: the data directory, or the database with a small pool and its own application name. */
    static Stores openStores(Settings settings) {
        if (settings.store.equals("postgres")) return openDatabase(settings);
        return FileStores.open(settings.dataDir);
    }

    static PgStores openDatabase(Settings settings) {
        return PgStores.open(settings.databaseUrl, settings.databasePassword, 2, settings.maxBrowserSessions, PgStores.COMMAND_APPLICATION);
    }

    @Override
    public String where() {
        return where;
    }

    // ---- clients ----

    @Override
    public List<ClientInfo> clients() {
        Map<String, Integer> grantCounts = new LinkedHashMap<>();
        for (RefreshFamily f : grants.list()) grantCounts.merge(f.clientId(), 1, Integer::sum);
        List<ClientInfo> out = new ArrayList<>();
        for (ClientRecord c : clients.list()) out.add(info(c, grantCounts.getOrDefault(c.clientId(), 0)));
        for (Map.Entry<String, Integer> e : grantCounts.entrySet()) {
            if (clients.get(e.getKey()) == null) out.add(unregistered(e.getKey(), e.getValue()));
        }
        out.sort(Comparator.comparing(ClientInfo::createdAt, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(ClientInfo::clientId));
        return out;
    }

    @Override
    public ClientDetail client(String clientId) {
        ClientRecord c = clients.get(clientId);
        List<GrantInfo> held = grants(null, clientId);
        if (c == null && held.isEmpty()) throw AdminException.notFound("There is no client '" + clientId + "'.");
        List<String> consented = new ArrayList<>();
        for (ConsentRecord r : stores.consents().listByClient(clientId)) consented.add(r.userId());
        consented.sort(null);
        return new ClientDetail(c == null ? unregistered(clientId, held.size()) : info(c, held.size()), held, consented);
    }

    @Override
    public ClientRemoved removeClient(String clientId) {
        ClientRecord c = clients.get(clientId);
        if (c == null && familyIds(f -> f.clientId().equals(clientId)).isEmpty()) throw AdminException.notFound("There is no client '" + clientId + "'.");
        GrantLifecycle.ClientRemoval r = lifecycle.removeClient(clientId, "admin");
        return new ClientRemoved(clientId, r.clientExisted(), r.grants(), r.consents());
    }

    private ClientInfo info(ClientRecord c, int grants) {
        return new ClientInfo(c.clientId(), c.clientName(), c.tokenEndpointAuthMethod(), c.redirectUris(), c.createdAt(), c.lastUsedAt(),
                grants, true);
    }

    private static ClientInfo unregistered(String clientId, int grants) {
        return new ClientInfo(clientId, null, clientId.startsWith("https://") ? "metadata_document" : null, List.of(), null, null, grants,
                false);
    }

    // ---- grants ----

    @Override
    public List<GrantInfo> grants(String user, String clientId) {
        Set<String> ids = user == null ? null : userIds(user);
        List<GrantInfo> out = new ArrayList<>();
        for (RefreshFamily f : grants.list()) {
            if (ids != null && !ids.contains(f.userId())) continue;
            if (clientId != null && !clientId.equals(f.clientId())) continue;
            ClientRecord c = clients.get(f.clientId());
            UserRecord u = users.get(f.userId());
            out.add(new GrantInfo(f.familyId(), f.clientId(), c == null ? null : c.clientName(), f.userId(), u == null ? null : u.username(),
                    f.scope(), f.createdAt(), f.rotatedAt(), f.expiresAt(), f.rotations()));
        }
        out.sort(Comparator.comparing(GrantInfo::createdAt, Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(GrantInfo::familyId));
        return out;
    }

    @Override
    public Revoked revokeGrants(String user, String clientId, String familyId) {
        int given = (user == null ? 0 : 1) + (clientId == null ? 0 : 1) + (familyId == null ? 0 : 1);
        if (given != 1) throw AdminException.invalid("Give exactly one of user, client or family.");
        if (familyId != null) {
            RefreshFamily f = grants.get(familyId);
            if (f == null) throw AdminException.notFound("There is no grant (refresh-token family) '" + familyId + "'.");
            return new Revoked(lifecycle.revokeGrant(f, "admin") ? 1 : 0);
        }
        if (user != null) {
            Set<String> ids = userIds(user);
            boolean known = ids.stream().anyMatch(id -> users.get(id) != null) || !familyIds(f -> ids.contains(f.userId())).isEmpty();
            if (!known) throw AdminException.notFound("There is no user '" + user + "'.");
            int n = 0;
            for (String id : new TreeSet<>(ids)) n += lifecycle.revokeUserGrants(id, "admin");
            return new Revoked(n);
        }
        if (clients.get(clientId) == null && familyIds(f -> f.clientId().equals(clientId)).isEmpty()) {
            throw AdminException.notFound("There is no client '" + clientId + "'.");
        }
        return new Revoked(lifecycle.revokeClientGrants(clientId, "admin"));
    }

    private List<String> familyIds(Predicate<RefreshFamily> which) {
        List<String> ids = new ArrayList<>();
        for (RefreshFamily f : grants.list()) {
            if (which.test(f)) ids.add(f.familyId());
        }
        return ids;
    }

    /** The user ids {@code user} may mean: a user id, a local user name, or a user name / e-mail of any provider. */
    private Set<String> userIds(String user) {
        Set<String> ids = new LinkedHashSet<>();
        String u = user.strip();
        if (users.get(u) != null || u.contains(":")) ids.add(u);
        UserRecord local = users.get(UserRecord.localId(u));
        if (local != null) ids.add(local.userId());
        for (UserRecord r : users.list()) {
            if (u.equalsIgnoreCase(r.username()) || r.email() != null && u.equalsIgnoreCase(r.email())) ids.add(r.userId());
        }
        return ids;
    }

    /** The one existing user {@code user} means; not_found or ambiguous otherwise. */
    private UserRecord oneUser(String user) {
        List<UserRecord> found = new ArrayList<>();
        for (String id : userIds(user)) {
            UserRecord r = users.get(id);
            if (r != null) found.add(r);
        }
        if (found.isEmpty()) throw AdminException.notFound("There is no user '" + user + "'.");
        if (found.size() > 1) {
            throw AdminException.invalid("'" + user + "' names several users (" + String.join(", ", found.stream().map(UserRecord::userId).toList())
                    + "); give the user id.");
        }
        return found.get(0);
    }

    // ---- API keys ----

    @Override
    public ApiKeyCreated createApiKey(String user, String name, List<String> scopes) {
        String n;
        try {
            n = ApiKeys.checkName(name);
        } catch (IllegalArgumentException e) {
            throw AdminException.invalid(e.getMessage());
        }
        List<String> granted = new ArrayList<>(scopes == null || scopes.isEmpty() ? settings.defaultScopes : new LinkedHashSet<>(scopes));
        for (String s : granted) {
            if (!settings.scopes.contains(s)) {
                throw AdminException.invalid("Unknown scope '" + s + "'; this server supports: " + String.join(" ", settings.scopes) + ".");
            }
        }
        if (granted.isEmpty()) throw AdminException.invalid("Give at least one scope (OAUTH_DEFAULT_SCOPES is empty).");
        UserRecord u = oneUser(user);
        ApiKeys.Created c = apiKeys.create(u.userId(), n, granted, clock.instant());
        events.apiKeyCreated(c.record().id(), u.userId(), n, granted);
        return new ApiKeyCreated(info(c.record()), c.key());
    }

    @Override
    public List<ApiKeyInfo> apiKeys() {
        List<ApiKeyInfo> out = new ArrayList<>();
        for (ApiKeyRecord r : apiKeys.list()) out.add(info(r));
        out.sort(Comparator.comparing(ApiKeyInfo::createdAt, Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(ApiKeyInfo::id));
        return out;
    }

    @Override
    public ApiKeyInfo revokeApiKey(String idOrPrefix) {
        String s = idOrPrefix == null ? "" : idOrPrefix.strip();
        String id = s.startsWith(io.mcpoauth.core.Secrets.API_KEY) ? ApiKeys.idOf(s) : s;
        ApiKeyRecord r = apiKeys.get(id);
        if (r == null || !apiKeys.revoke(id)) throw AdminException.notFound("There is no API key '" + s + "'.");
        events.apiKeyRevoked(id, r.userId());
        return info(r);
    }

    private ApiKeyInfo info(ApiKeyRecord r) {
        UserRecord u = users.get(r.userId());
        return new ApiKeyInfo(r.id(), r.prefix(), r.name(), r.userId(), u == null ? null : u.username(), r.scopes(), r.createdAt(), r.lastUsedAt());
    }

    // ---- users ----

    @Override
    public List<UserInfo> users() {
        List<UserInfo> out = new ArrayList<>();
        for (UserRecord u : users.list()) out.add(info(u));
        out.sort(Comparator.comparing(UserInfo::userId));
        return out;
    }

    @Override
    public UserInfo addUser(String name, char[] password) {
        String n = localName(name);
        if (users.get(UserRecord.localId(n)) != null) throw AdminException.conflict("A user named '" + n + "' already exists.");
        try {
            UserRecord u = accounts().add(n, password, clock.instant());
            events.userAdded(u.userId());
            return info(u);
        } catch (LocalAccounts.AccountException e) {
            throw users.get(UserRecord.localId(n)) != null ? AdminException.conflict(e.getMessage()) : AdminException.invalid(e.getMessage());
        }
    }

    @Override
    public UserInfo setPassword(String name, char[] password, boolean revokeGrants) {
        String n = localName(name);
        if (users.get(UserRecord.localId(n)) == null) throw AdminException.notFound("There is no local user named '" + n + "'.");
        try {
            accounts().setPassword(n, password);
        } catch (LocalAccounts.AccountException e) {
            throw AdminException.invalid(e.getMessage());
        }
        UserRecord u = users.get(UserRecord.localId(n));
        lifecycle.credentialsChanged(u.userId(), null, revokeGrants);
        return info(u);
    }

    @Override
    public UserRemoved removeUser(String name) {
        String id;
        if (name != null && name.contains(":")) {
            id = name.strip();
        } else {
            id = UserRecord.localId(localName(name));
        }
        UserRecord u = users.get(id);
        if (u == null) {
            throw AdminException.notFound(id.startsWith("local:") ? "There is no local user named '" + id.substring(6) + "'." : "There is no user '" + id + "'.");
        }
        GrantLifecycle.UserRemoval r = lifecycle.removeUser(id);
        return new UserRemoved(id, r.grants(), r.apiKeys(), r.notes(), r.consents());
    }

    private static String localName(String name) {
        try {
            return LocalAccounts.normalizeName(name);
        } catch (LocalAccounts.AccountException e) {
            throw AdminException.invalid(e.getMessage());
        }
    }

    private LocalAccounts accounts() {
        return new LocalAccounts(users, PASSWORDS);
    }

    private static UserInfo info(UserRecord u) {
        return new UserInfo(u.userId(), u.username(), u.provider(), u.email(), u.createdAt(), u.lastLoginAt());
    }

    // ---- store ----

    @Override
    public StoreReport checkStore() {
        if (stores instanceof PgStores pg) {
            List<FileInfo> tables = new ArrayList<>();
            pg.tableCounts().forEach((t, n) -> tables.add(new FileInfo(t, true, null, (int) Math.min(Integer.MAX_VALUE, n), false)));
            return new StoreReport(stores.describe(), stores.problem() == null, tables);
        }
        List<FileInfo> files = new ArrayList<>();
        try {
            for (Recovery.FileState s : new Recovery().check(files().dir())) {
                files.add(new FileInfo(s.name(), s.ok(), s.problem(), s.records(), s.previousUsable()));
            }
        } catch (IOException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 503, "Cannot read " + files().dir() + ": " + e.getMessage());
        }
        return new StoreReport(files().dir().toString(), files().healthy(), files);
    }

    /**
     * With the file backend, a copy of the data directory taken under its locks. With PostgreSQL, a consistent export
     * (one REPEATABLE READ transaction) written as a data directory in the file backend's format: start a server on
     * it with {@code STORE=file}, or bring it back with {@code store migrate --to postgres}.
     */
    @Override
    public BackupReport backup(String dir, boolean includeKey) {
        if (dir == null || dir.isBlank()) throw AdminException.invalid("Give the directory to write the backup to.");
        Path target = Path.of(dir);
        if (!target.isAbsolute()) throw AdminException.invalid("The backup directory must be an absolute path: " + dir);
        if (stores instanceof PgStores pg) {
            BackupReport r = exportTo(pg, target, clock);
            events.backupTaken(r.dir(), r.files().size());
            return r;
        }
        Backup.Result r;
        try {
            r = files().backup(target, includeKey);
        } catch (StoreException e) {
            if (e.unavailable()) throw new AdminException(AdminException.UNAVAILABLE, 503, e.getMessage());
            throw AdminException.invalid(e.getMessage());
        }
        List<BackupFile> files = new ArrayList<>();
        for (Backup.File f : r.files()) files.add(new BackupFile(f.name(), f.records(), f.bytes()));
        events.backupTaken(r.dir().toString(), files.size());
        return new BackupReport(r.dir().toString(), r.takenAt(), files, r.keyLeftOut());
    }

    /** The database's durable records, as one consistent view, into a new data directory {@code target} (absent or empty). */
    static BackupReport exportTo(Stores source, Path target, Clock clock) {
        Path t = target.toAbsolutePath().normalize();
        try {
            if (Files.exists(t) && (!Files.isDirectory(t) || hasEntries(t))) {
                throw AdminException.invalid(t + " is not an empty directory; give a new or empty one.");
            }
        } catch (IOException e) {
            throw AdminException.invalid("Cannot use " + t + ": " + e.getMessage());
        }
        java.time.Instant takenAt = clock.instant();
        io.mcpoauth.store.Contents contents;
        try {
            contents = source.contents();
        } catch (StoreException e) {
            if (e.unavailable()) throw new AdminException(AdminException.UNAVAILABLE, 503, e.getMessage());
            throw AdminException.invalid(e.getMessage());
        }
        try (FileStores out = FileStores.open(t)) {
            out.awaitLoaded().load(contents);
        } catch (StoreException e) {
            throw AdminException.invalid("Cannot write the export to " + t + ": " + e.getMessage());
        }
        Map<String, Integer> counts = contents.counts();
        Map<String, Integer> byFile = new LinkedHashMap<>();
        byFile.put(FileStores.CLIENTS, counts.get("clients"));
        byFile.put(FileStores.REFRESH_TOKENS, counts.get("grants"));
        byFile.put(FileStores.USERS, counts.get("users"));
        byFile.put(FileStores.CONSENTS, counts.get("consents"));
        byFile.put(FileStores.API_KEYS, counts.get("api_keys"));
        byFile.put(FileStores.NOTES, counts.get("notes"));
        byFile.put(FileStores.IDP_TOKENS, counts.get("upstream_tokens"));
        byFile.put(FileStores.CONNECTIONS, counts.get("connections"));
        List<BackupFile> files = new ArrayList<>();
        byFile.forEach((name, n) -> {
            Path f = t.resolve(name);
            try {
                if (Files.exists(f)) files.add(new BackupFile(name, n, Files.size(f)));
            } catch (IOException e) {
                files.add(new BackupFile(name, n, -1));
            }
        });
        return new BackupReport(t.toString(), takenAt, files, false); // the key is in ENCRYPTION_KEY, never in the database
    }

    private static boolean hasEntries(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    private FileStore files() {
        if (files == null) throw AdminException.invalid("This command works on the data directory of STORE=file; " + where + " is another store.");
        return files;
    }

    @Override
    public void close() {
        if (ownsStore) stores.close();
    }
}
