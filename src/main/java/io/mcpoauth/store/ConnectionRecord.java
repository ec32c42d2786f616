package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * One user's connection to a third-party service (a vault entry), as kept in {@code connections.json} or the
 * {@code connections} table. The secrets are only in {@code accessCiphertext} and {@code refreshCiphertext}
 * (AES-256-GCM through {@link TokenCipher}, bound to the user id, the connection name and the field, see
 * {@link #associatedData}): a ciphertext copied to another user, another connection or the other field does not decrypt.
 *
 * @param userId            the user it belongs to
 * @param name              the connection's name (as configured under {@code "connections"})
 * @param keyId             {@link TokenCipher#keyId()} of the key that made the ciphertexts
 * @param accessCiphertext  the access token (or the pasted secret), encrypted
 * @param refreshCiphertext the refresh token, encrypted; null when there is none
 * @param expiresAt         when the access token expires; null when not known
 * @param scopes            what the provider granted
 * @param account           the account at the provider (e-mail or login) when it told, else null
 * @param status            {@link #CONNECTED} or {@link #NEEDS_RECONNECT}
 * @param createdAt         when the user connected
 * @param refreshedAt       when the access token was last refreshed; null before the first refresh
 * @param lastUsedAt        when a tool or upstream last used it (updated at most once a minute)
 * @param refreshingSince   set, durably, just before the refresh token is sent to the provider and cleared with its
 *                          answer: a record still marked after a crash may have had its refresh token consumed
 * @param refreshOwner      which server process set {@code refreshingSince}
 * @param revision          incremented on every change; {@link ConnectionStore#replace} compares it
 */
public record ConnectionRecord(
        String userId,
        String name,
        String keyId,
        String accessCiphertext,
        String refreshCiphertext,
        Instant expiresAt,
        List<String> scopes,
        String account,
        String status,
        Instant createdAt,
        Instant refreshedAt,
        Instant lastUsedAt,
        Instant refreshingSince,
        String refreshOwner,
        long revision) {

    public static final String CONNECTED = "connected";
    public static final String NEEDS_RECONNECT = "needs_reconnect";

    public ConnectionRecord {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }

    /** The key of a record: user id and name, separated by a character neither may contain. */
    public static String key(String userId, String name) {
        return userId + "\n" + name;
    }

    public String key() {
        return key(userId, name);
    }

    /** The associated data of one secret field ({@code access} or {@code refresh}) of one user's connection. */
    public static String associatedData(String userId, String name, String field) {
        return "connections/v1/" + userId.length() + ":" + userId + "/" + name.length() + ":" + name + "/" + field;
    }

    /** This record with a new revision and the given changes applied by the caller. */
    public ConnectionRecord next(String keyId, String accessCiphertext, String refreshCiphertext, Instant expiresAt, List<String> scopes,
                                 String account, String status, Instant refreshedAt, Instant lastUsedAt, Instant refreshingSince,
                                 String refreshOwner) {
        return new ConnectionRecord(userId, name, keyId, accessCiphertext, refreshCiphertext, expiresAt, scopes, account, status, createdAt,
                refreshedAt, lastUsedAt, refreshingSince, refreshOwner, revision + 1);
    }

    public ConnectionRecord marked(Instant since, String owner) {
        return next(keyId, accessCiphertext, refreshCiphertext, expiresAt, scopes, account, status, refreshedAt, lastUsedAt, since, owner);
    }

    public ConnectionRecord withStatus(String newStatus) {
        return next(keyId, accessCiphertext, refreshCiphertext, expiresAt, scopes, account, newStatus, refreshedAt, lastUsedAt, null, null);
    }

    public ConnectionRecord usedAt(Instant when) {
        return next(keyId, accessCiphertext, refreshCiphertext, expiresAt, scopes, account, status, refreshedAt, when, refreshingSince, refreshOwner);
    }

    @Override
    public String toString() {
        return "ConnectionRecord[" + userId + ", " + name + ", " + status + ", expires " + expiresAt + "]";
    }
}
