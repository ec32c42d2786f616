package io.mcpoauth.store;

import java.util.List;

/** Users' tokens at their identity provider, ciphertexts only, one record per user. */
public interface IdpTokenStore {
    IdpTokenRecord get(String userId);

    void put(IdpTokenRecord record);

    /** Replaces {@code expected} with {@code next} only if the stored record still has {@code expected}'s ciphertext. */
    boolean replace(IdpTokenRecord expected, IdpTokenRecord next);

    boolean remove(String userId);

    /** Removes the user's record only if it still has {@code expected}'s ciphertext. */
    boolean removeIfSame(IdpTokenRecord expected);

    List<IdpTokenRecord> list();

    int count();
}
