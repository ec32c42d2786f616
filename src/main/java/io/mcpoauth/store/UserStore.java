package io.mcpoauth.store;

import java.util.List;

/** Users, keyed by {@link UserRecord#userId()}. */
public interface UserStore {
    UserRecord get(String userId);

    /** Every user, sorted by id. */
    List<UserRecord> list();

    int count();

    /** Adds the user unless one with that id exists; false then. */
    boolean add(UserRecord user);

    /** Replaces {@code expected} with {@code next} only if the stored user is still {@code expected}. */
    boolean replace(UserRecord expected, UserRecord next);

    /** Adds or replaces (sign-in through an identity provider: the provider is the source of truth). */
    void put(UserRecord user);

    boolean remove(String userId);
}
