package io.mcpoauth.store;

import java.util.List;

/** Remembered consents, one per user and client. */
public interface ConsentStore {
    ConsentRecord get(String userId, String clientId);

    /** Adds or replaces the consent of {@code consent.userId()} for {@code consent.clientId()}. */
    void put(ConsentRecord consent);

    boolean remove(String userId, String clientId);

    int removeByUser(String userId);

    int removeByClient(String clientId);

    List<ConsentRecord> listByUser(String userId);

    List<ConsentRecord> listByClient(String clientId);

    /** Every consent, sorted by user and client (exports). */
    List<ConsentRecord> list();
}
