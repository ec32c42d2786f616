package io.mcpoauth.store;

import java.util.List;

/** Users' connections (the vault), one record per user and connection name; ciphertexts only. */
public interface ConnectionStore {
    ConnectionRecord get(String userId, String name);

    /** The user's connections, sorted by name. */
    List<ConnectionRecord> listByUser(String userId);

    /** Every record, sorted by key (exports, key checks). */
    List<ConnectionRecord> list();

    /** Stores {@code record}, replacing any record of the same user and name (a new connect). */
    void put(ConnectionRecord record);

    /** Replaces the stored record only if it still has {@code expected}'s revision; false otherwise (changed or removed meanwhile). */
    boolean replace(ConnectionRecord expected, ConnectionRecord next);

    /** Removes the user's connection; the removed record, or null when there was none. */
    ConnectionRecord remove(String userId, String name);

    /** Removes every connection of the user; how many. */
    int removeByUser(String userId);

    int count();
}
