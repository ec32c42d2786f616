package io.mcpoauth.store.file;

import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ApiKeyStore;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.CodeRecord;
import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.ConsentStore;
import io.mcpoauth.store.Contents;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.IdpStateRecord;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.NoteStore;
import io.mcpoauth.store.PendingRecord;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.SessionRecord;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import io.mcpoauth.store.memory.MapApiKeyStore;
import io.mcpoauth.store.memory.MapClientStore;
import io.mcpoauth.store.memory.MapConnectionStore;
import io.mcpoauth.store.memory.MapConsentStore;
import io.mcpoauth.store.memory.MapGrantStore;
import io.mcpoauth.store.memory.MapIdpTokenStore;
import io.mcpoauth.store.memory.MapNoteStore;
import io.mcpoauth.store.memory.MapUserStore;
import io.mcpoauth.store.memory.MemoryAccessTokenStore;
import io.mcpoauth.store.memory.MemoryShortLivedStore;
import io.mcpoauth.store.memory.MemoryStores;
import io.mcpoauth.store.memory.RecordMap;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The JSON-file backend: one locked data directory ({@link FileStore}) with one file per kind of record, each a
 * {@link DurableMap} (group commit; {@code refresh_tokens.json} journaled). Short-lived records (access tokens, codes,
 * browser sessions, pending authorizations, identity-provider states) are kept in memory: a restart forgets them and
 * clients refresh.
 */
public final class FileStores implements Stores {
    public static final String CLIENTS = "clients.json";
    public static final String REFRESH_TOKENS = "refresh_tokens.json";
    public static final String USERS = "users.json";
    public static final String CONSENTS = "consents.json";
    public static final String NOTES = "notes.json";
    public static final String API_KEYS = "api_keys.json";
    public static final String IDP_TOKENS = "upstream_tokens.json";
    public static final String CONNECTIONS = "connections.json";

    private final FileStore store;
    private final CompletableFuture<DurableMap<RefreshFamily>> grantsLoading;
    private final ClientStore clients;
    private final GrantStore grants;
    private final UserStore users;
    private final ConsentStore consents;
    private final ApiKeyStore apiKeys;
    private final NoteStore notes;
    private final IdpTokenStore idpTokens;
    private final ConnectionStore connections;
    private final ShortLivedStore<CodeRecord> codes = new MemoryShortLivedStore<>(MemoryStores.MAX_SHORT_LIVED);
    private final ShortLivedStore<IdpStateRecord> idpStates = new MemoryShortLivedStore<>(MemoryStores.MAX_SHORT_LIVED);
    private final AccessTokenStore accessTokens = new MemoryAccessTokenStore(MemoryStores.MAX_ACCESS_TOKENS, MemoryStores.ACCESS_TOKENS_PER_GRANT);
    private final ShortLivedStore<SessionRecord> sessions;
    private final ShortLivedStore<PendingRecord> pending;
    private final RecordMap<ClientRecord> clientMap;
    private final RecordMap<UserRecord> userMap;
    private final RecordMap<ConsentRecord> consentMap;
    private final RecordMap<ApiKeyRecord> apiKeyMap;
    private final RecordMap<NoteRecord> noteMap;
    private final RecordMap<IdpTokenRecord> idpTokenMap;
    private final RecordMap<ConnectionRecord> connectionMap;
    private volatile RecordMap<RefreshFamily> grantMap;

    private FileStores(FileStore store, int maxBrowserSessions) {
        this.store = store;
        this.sessions = new MemoryShortLivedStore<>(maxBrowserSessions);
        this.pending = new MemoryShortLivedStore<>(maxBrowserSessions);
        // The largest file by far (about a second for 100,000 families): loaded on another core while the rest loads
        // and the server is built; the first use waits for it (and throws what the load threw).
        this.grantsLoading = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                grantsLoading.complete(grantMap(store));
            } catch (Throwable e) {
                grantsLoading.completeExceptionally(e);
            }
        }, "load-refresh-tokens");
        t.setDaemon(true);
        t.start();
        try {
            this.clientMap = records(store.map(CLIENTS, "clients", ClientRecord.class, SnapshotFormat.Layout.INDENTED));
            this.userMap = records(store.map(USERS, "users", UserRecord.class, SnapshotFormat.Layout.INDENTED));
            this.consentMap = records(store.map(CONSENTS, "consents", ConsentRecord.class, SnapshotFormat.Layout.ONE_LINE));
            this.apiKeyMap = records(store.map(API_KEYS, "api_keys", ApiKeyRecord.class, SnapshotFormat.Layout.INDENTED));
            // journaled: a note added for one user appends that user's record, not everyone's notes
            this.noteMap = records(store.journaledMap(NOTES, "notes", NoteRecord.class, SnapshotFormat.Layout.ONE_LINE));
            this.idpTokenMap = records(store.map(IDP_TOKENS, "upstream_tokens", IdpTokenRecord.class, SnapshotFormat.Layout.ONE_LINE));
            // journaled: a refresh of one user's connection appends that record, not every user's
            this.connectionMap = records(connectionMap(store));
            this.clients = new MapClientStore(clientMap);
            this.users = new MapUserStore(userMap);
            this.consents = new MapConsentStore(consentMap);
            this.apiKeys = new MapApiKeyStore(apiKeyMap);
            this.notes = new MapNoteStore(noteMap);
            this.idpTokens = new MapIdpTokenStore(idpTokenMap);
            this.connections = new MapConnectionStore(connectionMap);
        } catch (RuntimeException e) {
            grantsLoading.handle((m, x) -> null).join();
            throw e;
        }
        this.grants = new MapGrantStore(this::grantMap);
    }

    private RecordMap<RefreshFamily> grantMap() {
        RecordMap<RefreshFamily> m = grantMap;
        if (m == null) grantMap = m = records(join(grantsLoading));
        return m;
    }

    /**
     * Stores {@code contents} with one commit per file (the refresh tokens in commits of {@value #LOAD_BATCH}); refused
     * when the directory already holds records.
     */
    @Override
    public void load(Contents contents) {
        Contents held = contents();
        if (!held.isEmpty()) {
            throw StoreException.refused(store.dir() + " already holds records (" + held.total() + "); load only into an empty data directory.");
        }
        putAll(clientMap, contents.clients(), ClientRecord::clientId);
        putAll(userMap, contents.users(), UserRecord::userId);
        putAll(grantMap(), contents.grants(), RefreshFamily::familyId);
        putAll(consentMap, contents.consents(), c -> MapConsentStore.key(c.userId(), c.clientId()));
        putAll(apiKeyMap, contents.apiKeys(), ApiKeyRecord::id);
        putAll(noteMap, contents.notes(), NoteRecord::userId);
        putAll(idpTokenMap, contents.idpTokens(), IdpTokenRecord::userId);
        putAll(connectionMap, contents.connections(), ConnectionRecord::key);
    }

    static final int LOAD_BATCH = 10_000;

    private static <V> void putAll(RecordMap<V> map, List<V> records, Function<V, String> key) {
        for (int from = 0; from < records.size(); from += LOAD_BATCH) {
            List<V> part = records.subList(from, Math.min(records.size(), from + LOAD_BATCH));
            map.update(tx -> {
                for (V r : part) tx.put(key.apply(r), r);
                return null;
            });
        }
    }

    /**
     * Opens (locks) the data directory and loads every file.
     *
     * @throws io.mcpoauth.store.StoreException (refused) when the directory cannot be used or a file is damaged
     */
    public static FileStores open(Path dir) {
        return open(FileStore.open(dir));
    }

    /**
     * Like {@link #open(Path)}, holding at most {@code maxBrowserSessions} browser sessions and as many pending
     * authorizations in memory ({@code MAX_BROWSER_SESSIONS}).
     */
    public static FileStores open(Path dir, int maxBrowserSessions) {
        return open(FileStore.open(dir), maxBrowserSessions);
    }

    /** Over an opened {@link FileStore} (tests pass one with their own {@link FileOps}); closes it when this fails. */
    public static FileStores open(FileStore store) {
        return open(store, MemoryStores.MAX_SHORT_LIVED);
    }

    private static FileStores open(FileStore store, int maxBrowserSessions) {
        try {
            return new FileStores(store, maxBrowserSessions);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    // ---- one file each (tests and commands open single files this way) ----

    public static ClientStore clients(FileStore store) {
        return new MapClientStore(records(store.map(CLIENTS, "clients", ClientRecord.class, SnapshotFormat.Layout.INDENTED)));
    }

    /** {@code refresh_tokens.json}: journaled, since it changes on every refresh. */
    public static GrantStore grants(FileStore store) {
        return new MapGrantStore(records(grantMap(store)));
    }

    private static DurableMap<RefreshFamily> grantMap(FileStore store) {
        return store.journaledMap(REFRESH_TOKENS, "refresh_tokens", RefreshFamily.class, SnapshotFormat.Layout.ONE_LINE);
    }

    public static UserStore users(FileStore store) {
        return new MapUserStore(records(store.map(USERS, "users", UserRecord.class, SnapshotFormat.Layout.INDENTED)));
    }

    public static ConsentStore consents(FileStore store) {
        return new MapConsentStore(records(store.map(CONSENTS, "consents", ConsentRecord.class, SnapshotFormat.Layout.ONE_LINE)));
    }

    public static ApiKeyStore apiKeys(FileStore store) {
        return new MapApiKeyStore(records(store.map(API_KEYS, "api_keys", ApiKeyRecord.class, SnapshotFormat.Layout.INDENTED)));
    }

    public static NoteStore notes(FileStore store) {
        return new MapNoteStore(records(store.journaledMap(NOTES, "notes", NoteRecord.class, SnapshotFormat.Layout.ONE_LINE)));
    }

    public static IdpTokenStore idpTokens(FileStore store) {
        return new MapIdpTokenStore(records(store.map(IDP_TOKENS, "upstream_tokens", IdpTokenRecord.class, SnapshotFormat.Layout.ONE_LINE)));
    }

    public static ConnectionStore connections(FileStore store) {
        return new MapConnectionStore(records(connectionMap(store)));
    }

    private static DurableMap<ConnectionRecord> connectionMap(FileStore store) {
        return store.journaledMap(CONNECTIONS, "connections", ConnectionRecord.class, SnapshotFormat.Layout.ONE_LINE);
    }

    /** Waits until {@code refresh_tokens.json} is loaded; throws what the load threw (a damaged file is refused here). */
    public FileStores awaitLoaded() {
        grants.count();
        return this;
    }

    private static <V> V join(CompletableFuture<V> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error r) throw r;
            throw e;
        }
    }

    /** A {@link DurableMap} seen as a {@link RecordMap}: every transaction is on disk when {@code update} returns. */
    static <V> RecordMap<V> records(DurableMap<V> m) {
        return new RecordMap<>() {
            @Override
            public V get(String key) {
                return key == null ? null : m.get(key);
            }

            @Override
            public Collection<V> values() {
                return m.values();
            }

            @Override
            public int size() {
                return m.size();
            }

            @Override
            public <R> R update(Function<Tx<V>, R> fn) {
                return m.update(tx -> fn.apply(new Tx<>() {
                    @Override
                    public V get(String key) {
                        return tx.get(key);
                    }

                    @Override
                    public void put(String key, V value) {
                        tx.put(key, value);
                    }

                    @Override
                    public void remove(String key) {
                        tx.remove(key);
                    }
                }));
            }
        };
    }

    /** The data directory and its files (backup, check, metrics). */
    public FileStore files() {
        return store;
    }

    public Path dir() {
        return store.dir();
    }

    @Override
    public ClientStore clients() {
        return clients;
    }

    @Override
    public GrantStore grants() {
        return grants;
    }

    @Override
    public UserStore users() {
        return users;
    }

    @Override
    public ConsentStore consents() {
        return consents;
    }

    @Override
    public ApiKeyStore apiKeys() {
        return apiKeys;
    }

    @Override
    public NoteStore notes() {
        return notes;
    }

    @Override
    public IdpTokenStore idpTokens() {
        return idpTokens;
    }

    @Override
    public ConnectionStore connections() {
        return connections;
    }

    @Override
    public AccessTokenStore accessTokens() {
        return accessTokens;
    }

    @Override
    public ShortLivedStore<CodeRecord> codes() {
        return codes;
    }

    @Override
    public ShortLivedStore<IdpStateRecord> idpStates() {
        return idpStates;
    }

    @Override
    public ShortLivedStore<SessionRecord> sessions() {
        return sessions;
    }

    @Override
    public ShortLivedStore<PendingRecord> pending() {
        return pending;
    }

    /** In the data directory: {@code <name>.key}, 0600. */
    @Override
    public byte[] sharedKey(String name) {
        return KeyFile.openOrCreate(store.dir(), name + ".key");
    }

    @Override
    public String describe() {
        return "the data directory " + store.dir();
    }

    @Override
    public String problem() {
        FileStore.Health h = store.health();
        return h.healthy() ? null : String.join("; ", h.problems());
    }

    @Override
    public void close() {
        grantsLoading.handle((m, x) -> null).join();
        store.close();
    }
}
