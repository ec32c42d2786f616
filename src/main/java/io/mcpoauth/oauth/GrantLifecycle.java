package io.mcpoauth.oauth;

import io.mcpoauth.core.Events;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every ending of a grant, in one place: a grant revoked (by its client, its user, an admin, or for reuse), a client
 * removed, a user removed or their password changed, and the sweeps. Each cascade removes the durable records first
 * (grants, consents, keys, notes, identity-provider tokens), then the short-lived ones (access tokens, browser
 * sessions, pending authorizations and codes, wherever the store keeps them) and what the hooks add, and writes one
 * audit event.
 */
public final class GrantLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(GrantLifecycle.class);
    /** A sweep removes at most this share of the grants (and at least {@link #SWEEP_FLOOR}); the rest waits for the next. */
    static final double SWEEP_SHARE = 0.10;
    static final int SWEEP_FLOOR = 1_000;
    /** A wall clock that moved this much more than the monotonic clock between two sweeps has jumped. */
    static final Duration JUMP = Duration.ofMinutes(5);

    private final Stores stores;
    private final AccessTokens accessTokens;
    private final Events events;
    private final LongSupplier nanoTime;
    private final List<Consumer<String>> userRemovedHooks = new CopyOnWriteArrayList<>();
    private final List<BiConsumer<String, String>> credentialsChangedHooks = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> clientRemovedHooks = new CopyOnWriteArrayList<>();
    // the last sweep's trusted time and monotonic reading (guarded by this)
    private Instant lastSweep;
    private long lastSweepNanos;

    public GrantLifecycle(Stores stores, AccessTokens accessTokens, Events events) {
        this(stores, accessTokens, events, System::nanoTime);
    }

    GrantLifecycle(Stores stores, AccessTokens accessTokens, Events events, LongSupplier nanoTime) {
        this.stores = stores;
        this.accessTokens = accessTokens;
        this.events = events == null ? Events.NONE : events;
        this.nanoTime = nanoTime;
    }

    /** Runs when a user is removed, after their records (browser sessions, pending authorizations and codes included). */
    public GrantLifecycle onUserRemoved(Consumer<String> hook) {
        userRemovedHooks.add(hook);
        return this;
    }

    /** Runs when a user's password changes, after their other browser sessions ended (the second argument is the one kept, or null). */
    public GrantLifecycle onCredentialsChanged(BiConsumer<String, String> hook) {
        credentialsChangedHooks.add(hook);
        return this;
    }

    /** Runs when a client is removed, after its grants, consents and codes. */
    public GrantLifecycle onClientRemoved(Consumer<String> hook) {
        clientRemovedHooks.add(hook);
        return this;
    }

    // ---- grants ----

    /** Revokes one grant and its access tokens. {@code by}: {@code client}, {@code user}, {@code admin}. False when it did not exist. */
    public boolean revokeGrant(RefreshFamily grant, String by) {
        boolean removed = stores.grants().remove(grant.familyId());
        accessTokens.revokeGrant(grant.familyId());
        if (removed) events.tokensRevoked(by, "grant", grant.userId(), grant.clientId(), grant.familyId(), 1);
        return removed;
    }

    /** A replayed code or refresh token: the grant it belongs to ends (RFC 9700 4.14). */
    public void reuseDetected(String kind, String grantId, String userId, String clientId) {
        if (grantId != null) {
            stores.grants().remove(grantId);
            accessTokens.revokeGrant(grantId);
        }
        events.reuseDetected(kind, userId, clientId, grantId);
    }

    /** The user disconnects an application: its grants and the consent, so the next connection asks again. */
    public int revokeApplication(String userId, String clientId, String by) {
        List<RefreshFamily> gone = stores.grants().removeByUserAndClient(userId, clientId);
        dropAccessTokens(gone);
        stores.consents().remove(userId, clientId);
        if (!gone.isEmpty()) events.tokensRevoked(by, "grant", userId, clientId, null, gone.size());
        return gone.size();
    }

    /** Every grant of a user (an admin's or the user's choice); the user keeps their account. */
    public int revokeUserGrants(String userId, String by) {
        List<RefreshFamily> gone = stores.grants().removeByUser(userId);
        dropAccessTokens(gone);
        if (!gone.isEmpty()) events.tokensRevoked(by, "grant", userId, null, null, gone.size());
        return gone.size();
    }

    /** Every grant of a client; the client stays registered. */
    public int revokeClientGrants(String clientId, String by) {
        List<RefreshFamily> gone = stores.grants().removeByClient(clientId);
        dropAccessTokens(gone);
        if (!gone.isEmpty()) events.tokensRevoked(by, "grant", null, clientId, null, gone.size());
        return gone.size();
    }

    private void dropAccessTokens(List<RefreshFamily> grants) {
        for (RefreshFamily f : grants) accessTokens.revokeGrant(f.familyId());
    }

    // ---- clients ----

    /** What removing a client took with it. */
    public record ClientRemoval(boolean clientExisted, int grants, int consents) {}

    /** Removes a client with its grants, access tokens and consents. {@code by}: {@code client} (RFC 7592), {@code admin}, {@code sweeper}. */
    public ClientRemoval removeClient(String clientId, String by) {
        boolean existed = stores.clients().remove(clientId);
        return cascadeClient(clientId, by, existed);
    }

    private ClientRemoval cascadeClient(String clientId, String by, boolean existed) {
        List<RefreshFamily> gone = stores.grants().removeByClient(clientId);
        dropAccessTokens(gone);
        int consents = stores.consents().removeByClient(clientId);
        stores.codes().removeByClient(clientId);
        for (Consumer<String> h : clientRemovedHooks) h.accept(clientId);
        if (existed) events.clientRemoved(clientId, by, gone.size());
        if (!gone.isEmpty()) events.tokensRevoked(by, "grant", null, clientId, null, gone.size());
        return new ClientRemoval(existed, gone.size(), consents);
    }

    /**
     * Registers a client. At the {@code max}, the oldest client that never completed a grant makes room (it is removed
     * like any other, with an event); when every stored client has been used, nothing is stored.
     */
    public boolean addClient(io.mcpoauth.store.ClientRecord client, int max) {
        ClientStore.Added added = stores.clients().add(client, max);
        if (added.evicted() != null) {
            LOG.info("Client limit ({}) reached: removed the oldest client that never completed a sign-in, {}", max, added.evicted());
            cascadeClient(added.evicted(), "evicted", true);
        }
        return added.stored();
    }

    // ---- users ----

    /** What removing a user took with it. */
    public record UserRemoval(boolean userExisted, int grants, int apiKeys, int notes, int consents) {}

    /**
     * Removes a user and everything they had: grants and access tokens, consents, API keys, notes, identity-provider
     * tokens, browser sessions, pending authorizations and codes. A user created later under the same name
     * inherits none of it.
     */
    public UserRemoval removeUser(String userId) {
        boolean existed = stores.users().remove(userId);
        List<RefreshFamily> gone = stores.grants().removeByUser(userId);
        dropAccessTokens(gone);
        List<ApiKeyRecord> keys = stores.apiKeys().removeByUser(userId);
        int notes = stores.notes().removeAll(userId);
        int consents = stores.consents().removeByUser(userId);
        stores.idpTokens().remove(userId);
        stores.connections().removeByUser(userId);
        stores.sessions().removeByUser(userId);
        stores.pending().removeByUser(userId);
        stores.codes().removeByUser(userId);
        for (Consumer<String> h : userRemovedHooks) h.accept(userId);
        if (existed) events.userRemoved(userId, gone.size(), keys.size());
        return new UserRemoval(existed, gone.size(), keys.size(), notes, consents);
    }

    /**
     * A user's password changed: every browser session of theirs but {@code keepSession} (a session id, or null) ends;
     * with {@code revokeGrants}, every grant too (each client has to sign in again).
     */
    public int credentialsChanged(String userId, String keepSession, boolean revokeGrants) {
        stores.sessions().removeByUser(userId, keepSession == null ? null : Secrets.hash(keepSession));
        for (BiConsumer<String, String> h : credentialsChangedHooks) h.accept(userId, keepSession);
        events.passwordChanged(userId);
        return revokeGrants ? revokeUserGrants(userId, "password_change") : 0;
    }

    /**
     * True when {@code userId} exists and already existed at {@code since}: a grant, code or token made for a user who
     * was removed (and perhaps created again under the same name later) belongs to nobody.
     */
    public boolean userExistedSince(String userId, Instant since) {
        UserRecord u = stores.users().get(userId);
        return u != null && (u.createdAt() == null || !since.isBefore(u.createdAt()));
    }

    // ---- sweeps ----

    /**
     * Removes expired grants. The time used is the wall clock, but never further ahead of the previous sweep than the
     * monotonic clock has moved (plus {@link #JUMP}): a wall clock stepped forward does not delete grants that have
     * not really expired. One sweep removes at most a bounded share of the grants; the rest waits for the next.
     */
    public int sweepGrants(Instant wallNow) {
        Instant now = trustedNow(wallNow);
        int total = stores.grants().count();
        int limit = Math.max(SWEEP_FLOOR, (int) (total * SWEEP_SHARE));
        List<RefreshFamily> gone = stores.grants().removeExpired(now, limit);
        dropAccessTokens(gone);
        if (gone.size() >= limit) {
            LOG.warn("Swept {} expired grants of {}, the most one sweep removes; the rest waits for the next sweep", gone.size(), total);
        }
        return gone.size();
    }

    synchronized Instant trustedNow(Instant wallNow) {
        long nanos = nanoTime.getAsLong();
        Instant trusted = wallNow;
        if (lastSweep != null) {
            Instant bound = lastSweep.plusNanos(nanos - lastSweepNanos).plus(JUMP);
            if (wallNow.isAfter(bound)) {
                LOG.warn("The wall clock moved {} further than elapsed time since the last sweep: sweeping as of {} instead of {}",
                        Duration.between(bound, wallNow), bound, wallNow);
                trusted = bound;
            }
        }
        lastSweep = trusted;
        lastSweepNanos = nanos;
        return trusted;
    }

    /** Removes clients that never completed a grant and were registered longer than {@code unusedTtl} ago. */
    public int sweepUnusedClients(Instant wallNow, Duration unusedTtl) {
        List<String> removed = stores.clients().removeUnusedCreatedBefore(wallNow.minus(unusedTtl));
        for (String id : removed) cascadeClient(id, "sweeper", true);
        return removed.size();
    }

    /** At start: grants whose client no longer exists are dropped (clients are written before their grants). */
    public int dropOrphanedGrants() {
        java.util.Set<String> registered = new java.util.HashSet<>();
        for (io.mcpoauth.store.ClientRecord c : stores.clients().list()) registered.add(c.clientId());
        int n = 0;
        for (String clientId : stores.grants().clientIds()) {
            if (!clientId.startsWith("https://") && !registered.contains(clientId)) n += stores.grants().removeByClient(clientId).size();
        }
        return n;
    }
}
