package io.mcpoauth.store.file;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.RefreshFamily;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Refresh-token families, durable in {@code refresh_tokens.json} (one line per family). A refresh token reads
 * {@code mcprt_<familyId>.<43 random characters>}: the family is found without an index, and only the SHA-256 of
 * the whole token is stored. Lifetime is sliding: each rotation starts a new period.
 */
public final class RefreshTokens {
    public static final String FILE = "refresh_tokens.json";
    static final int RETIRED_KEPT = 5;
    static final int SHORT_HASH = 22;

    private final CompletableFuture<DurableMap<RefreshFamily>> loading;
    private final Duration ttl;

    public RefreshTokens(FileStore store, Duration ttl) {
        this(CompletableFuture.completedFuture(open(store)), ttl);
    }

    private RefreshTokens(CompletableFuture<DurableMap<RefreshFamily>> loading, Duration ttl) {
        this.loading = loading;
        this.ttl = ttl;
    }

    private static DurableMap<RefreshFamily> open(FileStore store) {
        return store.journaledMap(FILE, "refresh_tokens", RefreshFamily.class, SnapshotFormat.Layout.ONE_LINE);
    }

    /**
     * Starts loading {@code refresh_tokens.json} on another thread and returns at once: it is by far the largest file
     * (about a second for 100,000 families), so the server builds everything else meanwhile. Every method waits for
     * the load and throws what it threw (e.g. {@link StoreException} for a damaged file).
     */
    public static RefreshTokens loadInBackground(FileStore store, Duration ttl) {
        CompletableFuture<DurableMap<RefreshFamily>> loading = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                loading.complete(open(store));
            } catch (Throwable e) {
                loading.completeExceptionally(e);
            }
        }, "load-refresh-tokens");
        t.setDaemon(true);
        t.start();
        return new RefreshTokens(loading, ttl);
    }

    /** Returns once the load has ended, however it ended (before closing the store after another failure). */
    public void awaitQuietly() {
        loading.handle((m, e) -> null).join();
    }

    /** A new family and, when asked for, its first refresh token (shown to the client once, never stored). */
    public record Issued(RefreshFamily family, String refreshToken) {}

    public enum Outcome { ROTATED, UNKNOWN, EXPIRED, WRONG_CLIENT, REUSED }

    /** The result of presenting a refresh token; {@code refreshToken} is the successor when ROTATED. */
    public record Rotation(Outcome outcome, RefreshFamily family, String refreshToken) {}

    public Issued create(String clientId, String userId, String scope, String resource, boolean withRefreshToken, Instant now) {
        String familyId = Secrets.randomString(16);
        String token = withRefreshToken ? mint(familyId) : null;
        RefreshFamily f = new RefreshFamily(familyId, clientId, userId, scope, resource,
                token == null ? null : Secrets.hash(token), null, List.of(), now, now, now.plus(ttl), 0);
        map().update(tx -> {
            tx.put(familyId, f);
            return null;
        });
        return new Issued(f, token);
    }

    /**
     * Rotates {@code presented} for {@code clientId}. {@code precheck} runs on the family inside the same atomic step,
     * before anything changes, and may throw to refuse (e.g. a wider scope); nothing changes then.
     * Reuse of a rotated-out token revokes the whole family.
     */
    public Rotation rotate(String presented, String clientId, Instant now, Consumer<RefreshFamily> precheck) {
        String familyId = familyIdOf(presented);
        if (familyId == null || map().get(familyId) == null) return new Rotation(Outcome.UNKNOWN, null, null);
        String hash = Secrets.hash(presented);
        String successor = mint(familyId);
        String successorHash = Secrets.hash(successor);
        return map().update(tx -> {
            RefreshFamily f = tx.get(familyId);
            if (f == null) return new Rotation(Outcome.UNKNOWN, null, null);
            boolean isCurrent = equal(hash, f.tokenHash());
            boolean isPrevious = !isCurrent && equal(hash, f.previousHash());
            if (!isCurrent && !isPrevious) {
                if (f.retired().contains(hash.substring(0, SHORT_HASH))) {
                    tx.remove(familyId);
                    return new Rotation(Outcome.REUSED, f, null);
                }
                return new Rotation(Outcome.UNKNOWN, null, null);
            }
            if (!f.clientId().equals(clientId)) return new Rotation(Outcome.WRONG_CLIENT, f, null);
            if (f.expired(now)) {
                tx.remove(familyId);
                return new Rotation(Outcome.EXPIRED, f, null);
            }
            precheck.accept(f);
            List<String> retired = new ArrayList<>(f.retired());
            String dropped = isCurrent ? f.previousHash() : f.tokenHash();
            if (dropped != null) retired.add(dropped.substring(0, SHORT_HASH));
            while (retired.size() > RETIRED_KEPT) retired.remove(0);
            RefreshFamily next = new RefreshFamily(f.familyId(), f.clientId(), f.userId(), f.scope(), f.resource(),
                    successorHash, isCurrent ? f.tokenHash() : f.previousHash(), retired, f.createdAt(), now, now.plus(ttl),
                    f.rotations() + 1);
            tx.put(familyId, next);
            return new Rotation(Outcome.ROTATED, next, successor);
        });
    }

    /** The live family a refresh token (current or previous) belongs to, or null. Does not change anything. */
    public RefreshFamily find(String presented, Instant now) {
        String familyId = familyIdOf(presented);
        RefreshFamily f = familyId == null ? null : map().get(familyId);
        if (f == null || f.expired(now)) return null;
        String hash = Secrets.hash(presented);
        return equal(hash, f.tokenHash()) || equal(hash, f.previousHash()) ? f : null;
    }

    public RefreshFamily get(String familyId) {
        return familyId == null ? null : map().get(familyId);
    }

    /** True while the grant exists and has not expired: access tokens of a revoked grant die with it. */
    public boolean isLive(String familyId, Instant now) {
        RefreshFamily f = get(familyId);
        return f != null && !f.expired(now);
    }

    public boolean revoke(String familyId) {
        if (familyId == null || map().get(familyId) == null) return false;
        return map().update(tx -> {
            if (tx.get(familyId) == null) return false;
            tx.remove(familyId);
            return true;
        });
    }

    /** Revokes every family matching {@code which}; returns how many. */
    public int revokeIf(Predicate<RefreshFamily> which) {
        List<String> ids = new ArrayList<>();
        for (RefreshFamily f : map().values()) {
            if (which.test(f)) ids.add(f.familyId());
        }
        if (ids.isEmpty()) return 0;
        return map().update(tx -> {
            int n = 0;
            for (String id : ids) {
                RefreshFamily f = tx.get(id);
                if (f != null && which.test(f)) {
                    tx.remove(id);
                    n++;
                }
            }
            return n;
        });
    }

    public int sweepExpired(Instant now) {
        return revokeIf(f -> f.expired(now));
    }

    public Collection<RefreshFamily> all() {
        return map().values();
    }

    public int size() {
        return map().size();
    }

    DurableMap<RefreshFamily> map() {
        try {
            return loading.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error r) throw r;
            throw e;
        }
    }

    static String mint(String familyId) {
        return Secrets.REFRESH_TOKEN + familyId + "." + Secrets.randomString(32);
    }

    /** The family id embedded in a refresh token, or null when the token is not of our shape. */
    static String familyIdOf(String token) {
        if (token == null || !token.startsWith(Secrets.REFRESH_TOKEN) || token.length() > 200) return null;
        int dot = token.indexOf('.', Secrets.REFRESH_TOKEN.length());
        if (dot <= Secrets.REFRESH_TOKEN.length()) return null;
        return token.substring(Secrets.REFRESH_TOKEN.length(), dot);
    }

    private static boolean equal(String a, String b) {
        return a != null && b != null && java.security.MessageDigest.isEqual(a.getBytes(), b.getBytes());
    }
}
