package io.mcpoauth.store;

/**
 * Every kind of stored record, from one backend: the JSON files of a data directory, PostgreSQL, or memory (tests).
 * The rest of the server sees only these interfaces.
 */
public interface Stores extends AutoCloseable {
    ClientStore clients();

    GrantStore grants();

    UserStore users();

    ConsentStore consents();

    ApiKeyStore apiKeys();

    NoteStore notes();

    IdpTokenStore idpTokens();

    /** Users' connections to third-party services (the vault). */
    ConnectionStore connections();

    AccessTokenStore accessTokens();

    /** Authorization codes, by SHA-256 of the code. */
    ShortLivedStore<CodeRecord> codes();

    /** Sign-ins in flight at an identity provider, by SHA-256 of their {@code state}. */
    ShortLivedStore<IdpStateRecord> idpStates();

    /** Browser sessions, by SHA-256 of the session id (the cookie value). */
    ShortLivedStore<SessionRecord> sessions();

    /** Pending authorizations (between {@code GET /authorize} and the code), by their id. */
    ShortLivedStore<PendingRecord> pending();

    /** Every durable record as one consistent view (store migrate, backups). */
    default Contents contents() {
        return new Contents(clients().list(), grants().list(), users().list(), consents().list(), apiKeys().list(), notes().all(),
                idpTokens().list(), connections().list());
    }

    /** Stores {@code contents} into this store, which holds none of the durable records yet (store migrate, restores). */
    default void load(Contents contents) {
        for (ClientRecord c : contents.clients()) clients().put(c);
        for (UserRecord u : contents.users()) users().put(u);
        for (RefreshFamily f : contents.grants()) grants().create(f);
        for (ConsentRecord c : contents.consents()) consents().put(c);
        for (ApiKeyRecord k : contents.apiKeys()) apiKeys().create(k);
        for (NoteRecord n : contents.notes()) notes().put(n);
        for (IdpTokenRecord t : contents.idpTokens()) idpTokens().put(t);
        for (ConnectionRecord c : contents.connections()) connections().put(c);
    }

    /**
     * Runs {@code work} unless another instance sharing this store runs work of the same {@code name} at this moment
     * (the sweeper: one instance at a time); false when it was skipped. A store of one instance always runs it.
     */
    default boolean exclusively(String name, Runnable work) {
        work.run();
        return true;
    }

    /**
     * A random 32-byte key named {@code name}, created on first use and the same for every instance that uses this
     * store, across restarts (e.g. the key that seals the state of MCP requests that ask the client for input).
     */
    byte[] sharedKey(String name);

    /** What the store is, for logs: e.g. {@code the data directory /srv/.oauth_data}. */
    String describe();

    /** Null while writes succeed; otherwise what is wrong (for {@code /healthz} and the metrics). */
    String problem();

    /** Lets in-flight writes finish (bounded) and releases what the backend holds. */
    @Override
    void close();
}
