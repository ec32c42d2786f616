package io.mcpoauth.login;

import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records when a user last signed in: written at most once a minute per user, and never a reason to fail a sign-in. */
final class LastLogin {
    private static final Logger LOG = LoggerFactory.getLogger(LastLogin.class);
    static final Duration RESOLUTION = Duration.ofMinutes(1);

    private LastLogin() {}

    static void touch(UserStore users, String userId, Instant now) {
        UserRecord u = users.get(userId);
        if (u == null || u.lastLoginAt() != null && u.lastLoginAt().plus(RESOLUTION).isAfter(now)) return;
        try {
            users.replace(u, u.withLastLoginAt(now));
        } catch (StoreException e) {
            LOG.warn("Could not record the sign-in time of {}: {}", userId, e.getMessage());
        }
    }
}
