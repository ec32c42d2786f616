package io.mcpoauth.store.memory;

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
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;

/**
 * Everything in memory: for fast tests, and what a restart of such a server forgets. Two instances built from the
 * same {@link Data} share their records, which is how the contract tests model a restart.
 */
public final class MemoryStores implements Stores {
    /** The durable records; the short-lived ones (access tokens, codes, sessions...) belong to each instance. */
    public static final class Data {
        final MemoryMap<ClientRecord> clients = new MemoryMap<>();
        final MemoryMap<RefreshFamily> grants = new MemoryMap<>();
        final MemoryMap<UserRecord> users = new MemoryMap<>();
        final MemoryMap<ConsentRecord> consents = new MemoryMap<>();
        final MemoryMap<ApiKeyRecord> apiKeys = new MemoryMap<>();
        final MemoryMap<NoteRecord> notes = new MemoryMap<>();
        final MemoryMap<IdpTokenRecord> idpTokens = new MemoryMap<>();
        final MemoryMap<ConnectionRecord> connections = new MemoryMap<>();
        final java.util.Map<String, byte[]> keys = new java.util.concurrent.ConcurrentHashMap<>();
    }

    public static final int MAX_ACCESS_TOKENS = 1_000_000;
    public static final int ACCESS_TOKENS_PER_GRANT = 5;
    /** The most records of each short-lived kind (codes, sign-ins in flight at a provider). */
    public static final int MAX_SHORT_LIVED = 100_000;

    private final Data data;
    private final ClientStore clients;
    private final GrantStore grants;
    private final UserStore users;
    private final ConsentStore consents;
    private final ApiKeyStore apiKeys;
    private final NoteStore notes;
    private final IdpTokenStore idpTokens;
    private final ConnectionStore connections;
    private final ShortLivedStore<CodeRecord> codes = new MemoryShortLivedStore<>(MAX_SHORT_LIVED);
    private final ShortLivedStore<IdpStateRecord> idpStates = new MemoryShortLivedStore<>(MAX_SHORT_LIVED);
    private final AccessTokenStore accessTokens = new MemoryAccessTokenStore(MAX_ACCESS_TOKENS, ACCESS_TOKENS_PER_GRANT);
    private final ShortLivedStore<SessionRecord> sessions;
    private final ShortLivedStore<PendingRecord> pending;

    public MemoryStores() {
        this(new Data());
    }

    public MemoryStores(Data data) {
        this(data, MAX_SHORT_LIVED);
    }

    /** @param maxBrowserSessions how many browser sessions, and how many pending authorizations, are held at most */
    public MemoryStores(Data data, int maxBrowserSessions) {
        this.data = data;
        this.sessions = new MemoryShortLivedStore<>(maxBrowserSessions);
        this.pending = new MemoryShortLivedStore<>(maxBrowserSessions);
        this.clients = new MapClientStore(data.clients);
        this.grants = new MapGrantStore(data.grants);
        this.users = new MapUserStore(data.users);
        this.consents = new MapConsentStore(data.consents);
        this.apiKeys = new MapApiKeyStore(data.apiKeys);
        this.notes = new MapNoteStore(data.notes);
        this.idpTokens = new MapIdpTokenStore(data.idpTokens);
        this.connections = new MapConnectionStore(data.connections);
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

    @Override
    public byte[] sharedKey(String name) {
        return data.keys.computeIfAbsent(name, n -> io.mcpoauth.core.Secrets.randomBytes(32)).clone();
    }

    @Override
    public String describe() {
        return "memory (nothing survives a restart)";
    }

    @Override
    public String problem() {
        return null;
    }

    @Override
    public void close() {}
}
