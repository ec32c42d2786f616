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

    AccessTokenStore accessTokens();

    /** Authorization codes, by SHA-256 of the code. */
    ShortLivedStore<CodeRecord> codes();

    /** Sign-ins in flight at an identity provider, by SHA-256 of their {@code state}. */
    ShortLivedStore<IdpStateRecord> idpStates();

    /** Browser sessions, by SHA-256 of the session id (the cookie value). */
    ShortLivedStore<SessionRecord> sessions();

    /** Pending authorizations (between {@code GET /authorize} and the code), by their id. */
    ShortLivedStore<PendingRecord> pending();

    /** What the store is, for logs: e.g. {@code the data directory /srv/.oauth_data}. */
    String describe();

    /** Null while writes succeed; otherwise what is wrong (for {@code /healthz} and the metrics). */
    String problem();

    /** Lets in-flight writes finish (bounded) and releases what the backend holds. */
    @Override
    void close();
}
