package io.mcpoauth.store.memory;

import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.AccessTokenStore;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Access tokens in memory, bounded: at most {@code maxTokens} in all and, per grant, only the newest
 * {@code perGrant} (a client refreshing in a loop replaces its own tokens instead of filling the pool for
 * everyone). Tokens are indexed by grant, so revoking a grant does not scan the pool.
 */
public final class MemoryAccessTokenStore implements AccessTokenStore {
    private final ExpiringMap<AccessToken> tokens;
    private final ConcurrentHashMap<String, Deque<String>> byGrant = new ConcurrentHashMap<>();
    private final int perGrant;

    public MemoryAccessTokenStore(int maxTokens, int perGrant) {
        if (perGrant < 1) throw new IllegalArgumentException("perGrant must be at least 1");
        this.tokens = new ExpiringMap<>(maxTokens);
        this.perGrant = perGrant;
    }

    @Override
    public boolean put(String tokenHash, AccessToken token, Instant now) {
        String evicted = null;
        if (token.grantId() != null) {
            Deque<String> live = byGrant.computeIfAbsent(token.grantId(), g -> new ArrayDeque<>());
            synchronized (live) {
                live.addLast(tokenHash);
                if (live.size() > perGrant) evicted = live.pollFirst();
            }
        }
        if (evicted != null) tokens.remove(evicted);
        boolean stored = tokens.put(tokenHash, token, token.expiresAt(), now);
        if (!stored && token.grantId() != null) forget(token.grantId(), tokenHash);
        return stored;
    }

    @Override
    public AccessToken get(String tokenHash, Instant now) {
        return tokens.get(tokenHash, now);
    }

    @Override
    public boolean remove(String tokenHash) {
        AccessToken t = tokens.remove(tokenHash);
        if (t == null) return false;
        if (t.grantId() != null) forget(t.grantId(), tokenHash);
        return true;
    }

    private void forget(String grantId, String tokenHash) {
        Deque<String> live = byGrant.get(grantId);
        if (live == null) return;
        synchronized (live) {
            live.remove(tokenHash);
            if (live.isEmpty()) byGrant.remove(grantId, live);
        }
    }

    @Override
    public int removeByGrant(String grantId) {
        Deque<String> live = grantId == null ? null : byGrant.remove(grantId);
        if (live == null) return 0;
        int n = 0;
        synchronized (live) {
            for (String h : live) {
                if (tokens.remove(h) != null) n++;
            }
            live.clear();
        }
        return n;
    }

    @Override
    public int sweep(Instant now) {
        int n = tokens.sweep(now);
        byGrant.forEach((grant, live) -> {
            synchronized (live) {
                live.removeIf(h -> tokens.get(h, now) == null);
                if (live.isEmpty()) byGrant.remove(grant, live);
            }
        });
        return n;
    }

    @Override
    public int count() {
        return tokens.size();
    }
}
