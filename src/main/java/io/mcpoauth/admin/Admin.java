package io.mcpoauth.admin;

import java.time.Instant;
import java.util.List;

/**
 * The administrative operations, the same whether they run in this process on an open store ({@link AdminService})
 * or through the running server's {@code /admin/api} ({@link RemoteAdmin}). Results are plain records, serialized as
 * snake_case JSON by the admin API. A refusal is an {@link AdminException}.
 */
public interface Admin extends AutoCloseable {

    /** A client as listed: registered ones, and clients known only by their grants (Client ID Metadata Documents). */
    record ClientInfo(String clientId, String clientName, String authMethod, List<String> redirectUris, Instant createdAt,
                      Instant lastUsedAt, int grants, boolean registered) {}

    /** One grant (refresh-token family). No hash or token is ever part of it. */
    record GrantInfo(String familyId, String clientId, String clientName, String userId, String username, String scope,
                     Instant createdAt, Instant rotatedAt, Instant expiresAt, long rotations) {}

    record ClientDetail(ClientInfo client, List<GrantInfo> grants, List<String> consentedUsers) {}

    record ClientRemoved(String clientId, boolean registered, int grantsRevoked, int consentsRemoved) {}

    record Revoked(int grants) {}

    record ApiKeyInfo(String id, String prefix, String name, String userId, String username, List<String> scopes, Instant createdAt,
                      Instant lastUsedAt) {}

    /** A new key: {@code key} is shown this once. */
    record ApiKeyCreated(ApiKeyInfo apiKey, String key) {}

    record UserInfo(String userId, String username, String provider, String email, Instant createdAt, Instant lastLoginAt) {}

    record UserRemoved(String userId, int grantsRevoked, int apiKeysRevoked, int notesRemoved, int consentsRemoved) {}

    record FileInfo(String name, boolean ok, String problem, int records, boolean previousUsable) {}

    /** {@code writesHealthy} is false while the running server cannot write durably (always true for a stopped store). */
    record StoreReport(String dir, boolean writesHealthy, List<FileInfo> files) {}

    record BackupFile(String name, int records, long bytes) {}

    /** {@code keyLeftOut}: the data directory holds {@code encryption.key} and the backup does not. */
    record BackupReport(String dir, Instant takenAt, List<BackupFile> files, boolean keyLeftOut) {}

    /** Where the operations run, for messages: "the running server (pid 123)" or "the data directory /x". */
    String where();

    List<ClientInfo> clients();

    /** @throws AdminException not_found */
    ClientDetail client(String clientId);

    /** Removes a client, every grant it holds (with their access tokens) and its consents. @throws AdminException not_found */
    ClientRemoved removeClient(String clientId);

    /** Grants, optionally only a user's (id or name) and/or a client's. */
    List<GrantInfo> grants(String user, String clientId);

    /** Exactly one of the three; @throws AdminException not_found when nothing matches */
    Revoked revokeGrants(String user, String clientId, String familyId);

    /** @throws AdminException not_found (user), invalid_request (name, scopes) */
    ApiKeyCreated createApiKey(String user, String name, List<String> scopes);

    List<ApiKeyInfo> apiKeys();

    /** @throws AdminException not_found */
    ApiKeyInfo revokeApiKey(String idOrPrefix);

    List<UserInfo> users();

    /** @throws AdminException invalid_request (name, password policy), conflict (exists) */
    UserInfo addUser(String name, char[] password);

    /**
     * Sets a local user's password; every browser session of the user ends, and with {@code revokeGrants} every grant
     * too (each client must sign in again).
     *
     * @throws AdminException not_found, invalid_request
     */
    UserInfo setPassword(String name, char[] password, boolean revokeGrants);

    /** @throws AdminException not_found */
    UserRemoved removeUser(String name);

    StoreReport checkStore();

    /** @throws AdminException invalid_request (directory not usable), conflict (a file is damaged) */
    BackupReport backup(String dir, boolean includeKey);

    @Override
    void close();
}
