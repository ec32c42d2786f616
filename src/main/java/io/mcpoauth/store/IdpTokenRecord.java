package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * A user's tokens at the upstream identity provider, as kept in {@code upstream_tokens.json}. The tokens themselves
 * are only in {@code ciphertext} (AES-256-GCM, the user id bound as associated data, see {@link TokenCipher});
 * the rest is what the account page shows.
 *
 * @param userId      {@code <provider>:<subject>}, also the record's key
 * @param provider    google, azure, github or oidc
 * @param keyId       {@link TokenCipher#keyId()} of the key that encrypted {@code ciphertext}
 * @param ciphertext  the encrypted access token, refresh token and token type
 * @param scopes      the scopes the provider granted
 * @param expiresAt   when the access token expires; null when the provider did not say
 * @param refreshable true when a refresh token is stored
 * @param obtainedAt  when the user last signed in upstream
 * @param refreshedAt when the access token was last refreshed; null before the first refresh
 */
public record IdpTokenRecord(
        String userId,
        String provider,
        String keyId,
        String ciphertext,
        List<String> scopes,
        Instant expiresAt,
        boolean refreshable,
        Instant obtainedAt,
        Instant refreshedAt) {

    public IdpTokenRecord {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }

    /** The associated data every ciphertext of {@code userId} is bound to. */
    public static String associatedData(String userId) {
        return "upstream_tokens/v1/" + userId;
    }

    @Override
    public String toString() {
        return "IdpTokenRecord[" + userId + ", " + provider + ", expires " + expiresAt + "]";
    }
}
