package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The rules of refresh tokens, over the {@link GrantStore}. A refresh token reads
 * {@code mcprt_<familyId>.<43 random characters>}: the family is found without an index, and only the SHA-256 of the
 * whole token is stored. Lifetime is sliding: each rotation starts a new period. Rotation replaces the token; the one
 * it replaced stays valid once, for {@code grace} after the rotation, until the new one is used (a client whose
 * response was lost can retry); any other use of an older token is reuse and revokes the whole family.
 */
public final class RefreshTokens {
    static final int RETIRED_KEPT = 5;
    static final int SHORT_HASH = 22;
    /** Rotations racing on one family retry this often before answering as if the token were unknown. */
    private static final int MAX_ATTEMPTS = 16;

    private final GrantStore store;
    private final Duration ttl;
    private final Duration grace;

    /** The lost-response grace of {@code OAUTH_REFRESH_GRACE}'s default. */
    public static final Duration DEFAULT_GRACE = Duration.ofMinutes(2);

    public RefreshTokens(GrantStore store, Duration ttl) {
        this(store, ttl, DEFAULT_GRACE);
    }

    public RefreshTokens(GrantStore store, Duration ttl, Duration grace) {
        this.store = store;
        this.ttl = ttl;
        this.grace = grace;
    }

    /** A new family and, when asked for, its first refresh token (shown to the client once, never stored). */
    public record Issued(RefreshFamily family, String refreshToken) {}

    /** NO_ROOM: rotated, but the access token issued with it was not stored (the store is full of live tokens). */
    public enum Outcome { ROTATED, UNKNOWN, EXPIRED, WRONG_CLIENT, REUSED, NO_ROOM }

    /** The access token a rotation issues, written with it (in one commit where the store can): {@code record} builds it from the rotated family. */
    public record Access(AccessTokenStore tokens, String tokenHash, Function<RefreshFamily, AccessToken> record) {}

    /** The result of presenting a refresh token; {@code refreshToken} is the successor when ROTATED. */
    public record Rotation(Outcome outcome, RefreshFamily family, String refreshToken) {}

    public Issued create(String clientId, String userId, String scope, String resource, boolean withRefreshToken, Instant now) {
        String familyId = Secrets.randomString(16);
        String token = withRefreshToken ? mint(familyId) : null;
        RefreshFamily f = new RefreshFamily(familyId, clientId, userId, scope, resource,
                token == null ? null : Secrets.hash(token), null, List.of(), now, now, now.plus(ttl), 0);
        store.create(f);
        return new Issued(f, token);
    }

    /**
     * Rotates {@code presented} for {@code clientId}. {@code precheck} runs on the family before anything changes and
     * may throw to refuse (e.g. a wider scope); nothing changes then. Reuse of a rotated-out token revokes the whole
     * family; so does a second retry of the previous token, or one after the grace period.
     */
    public Rotation rotate(String presented, String clientId, Instant now, Consumer<RefreshFamily> precheck) {
        return rotate(presented, clientId, now, precheck, null);
    }

    /** {@link #rotate(String, String, Instant, Consumer)}, storing {@code access} (may be null) with the rotation. */
    public Rotation rotate(String presented, String clientId, Instant now, Consumer<RefreshFamily> precheck, Access access) {
        String familyId = familyIdOf(presented);
        if (familyId == null) return new Rotation(Outcome.UNKNOWN, null, null);
        String hash = Secrets.hash(presented);
        String successor = mint(familyId);
        String successorHash = Secrets.hash(successor);
        // the family as this store last wrote it, when the token presented is the one it issued: no read first; the
        // conditional replace checks that nothing changed since, and every other verdict is made on a fresh read
        RefreshFamily f = store.recent(familyId);
        boolean recent = f != null && equal(hash, f.tokenHash()) && f.clientId().equals(clientId) && !f.expired(now);
        if (!recent) f = null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            if (f == null) {
                f = store.get(familyId);
                recent = false;
            }
            if (f == null) return new Rotation(Outcome.UNKNOWN, null, null);
            boolean isCurrent = equal(hash, f.tokenHash());
            boolean isPrevious = !isCurrent && equal(hash, f.previousHash());
            if (!isCurrent && !isPrevious) {
                if (f.retired().contains(hash.substring(0, SHORT_HASH))) return reuse(f);
                return new Rotation(Outcome.UNKNOWN, null, null);
            }
            if (!f.clientId().equals(clientId)) return new Rotation(Outcome.WRONG_CLIENT, f, null);
            // refused, not deleted: a wall clock stepped forward must not destroy grants (the sweeper removes them)
            if (f.expired(now)) return new Rotation(Outcome.EXPIRED, f, null);
            if (isPrevious && (f.graceUsed() || !now.isBefore(f.rotatedAt().plus(grace)))) return reuse(f);
            if (recent) {
                try {
                    precheck.accept(f);
                } catch (RuntimeException refused) {
                    RefreshFamily fresh = store.get(familyId);
                    if (fresh == null || sameState(fresh, f)) throw refused;
                    f = fresh; // changed since: judge the token again on the family as it is now
                    recent = false;
                    continue;
                }
            } else {
                precheck.accept(f);
            }
            List<String> retired = new ArrayList<>(f.retired());
            String dropped = isCurrent ? f.previousHash() : f.tokenHash();
            if (dropped != null) retired.add(dropped.substring(0, SHORT_HASH));
            while (retired.size() > RETIRED_KEPT) retired.remove(0);
            RefreshFamily next = new RefreshFamily(f.familyId(), f.clientId(), f.userId(), f.scope(), f.resource(),
                    successorHash, isCurrent ? f.tokenHash() : f.previousHash(), retired, f.createdAt(),
                    isCurrent ? now : f.rotatedAt(), now.plus(ttl), f.rotations() + 1, isPrevious);
            if (access == null) {
                if (store.replace(f, next)) return new Rotation(Outcome.ROTATED, next, successor);
            } else {
                switch (store.replace(f, next, access.tokens(), access.tokenHash(), access.record().apply(next), now)) {
                    case WITH_TOKEN -> { return new Rotation(Outcome.ROTATED, next, successor); }
                    case NO_ROOM_FOR_TOKEN -> { return new Rotation(Outcome.NO_ROOM, next, successor); }
                    case CHANGED -> { }
                }
            }
            f = null; // another rotation of this family won the race: read it again and judge the token against the new state
        }
        return new Rotation(Outcome.UNKNOWN, null, null);
    }

    private static boolean sameState(RefreshFamily a, RefreshFamily b) {
        return a.rotations() == b.rotations() && equal(a.tokenHash(), b.tokenHash()) && a.graceUsed() == b.graceUsed();
    }

    private Rotation reuse(RefreshFamily f) {
        store.remove(f.familyId());
        return new Rotation(Outcome.REUSED, f, null);
    }

    /** The live family a refresh token (current or previous) belongs to, or null. Does not change anything. */
    public RefreshFamily find(String presented, Instant now) {
        String familyId = familyIdOf(presented);
        RefreshFamily f = familyId == null ? null : store.get(familyId);
        if (f == null || f.expired(now)) return null;
        String hash = Secrets.hash(presented);
        return equal(hash, f.tokenHash()) || equal(hash, f.previousHash()) ? f : null;
    }

    /** Where the grants are kept. */
    GrantStore store() {
        return store;
    }

    public RefreshFamily get(String familyId) {
        return familyId == null ? null : store.get(familyId);
    }

    /** True while the grant exists and has not expired: access tokens of a revoked grant die with it. */
    public boolean isLive(String familyId, Instant now) {
        RefreshFamily f = get(familyId);
        return f != null && !f.expired(now);
    }

    /** Removes the grant only ({@link GrantLifecycle#revokeGrant} also drops its access tokens and writes the event). */
    public boolean revoke(String familyId) {
        return familyId != null && store.remove(familyId);
    }

    /** Every family, sorted by id. */
    public List<RefreshFamily> all() {
        return store.list();
    }

    public int size() {
        return store.count();
    }

    static String mint(String familyId) {
        return Secrets.REFRESH_TOKEN + familyId + "." + Secrets.randomString(32);
    }

    /** The family id embedded in a refresh token, or null when the token is not of our shape. */
    public static String familyIdOf(String token) {
        if (token == null || !token.startsWith(Secrets.REFRESH_TOKEN) || token.length() > 200) return null;
        int dot = token.indexOf('.', Secrets.REFRESH_TOKEN.length());
        if (dot <= Secrets.REFRESH_TOKEN.length()) return null;
        return token.substring(Secrets.REFRESH_TOKEN.length(), dot);
    }

    private static boolean equal(String a, String b) {
        return a != null && b != null && MessageDigest.isEqual(a.getBytes(), b.getBytes());
    }
}
