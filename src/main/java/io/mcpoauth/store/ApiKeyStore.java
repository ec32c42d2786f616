package io.mcpoauth.store;

import java.util.List;

/** API keys, by id; only the SHA-256 of a key is stored. */
public interface ApiKeyStore {
    void create(ApiKeyRecord key);

    ApiKeyRecord get(String id);

    /** Replaces {@code expected} with {@code next} only if the stored key is still {@code expected}. */
    boolean replace(ApiKeyRecord expected, ApiKeyRecord next);

    boolean remove(String id);

    List<ApiKeyRecord> removeByUser(String userId);

    /** Every key, sorted by id. */
    List<ApiKeyRecord> list();

    int count();
}
