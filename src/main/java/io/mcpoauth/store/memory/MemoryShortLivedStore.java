package io.mcpoauth.store.memory;

import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.store.ShortLivedStore;
import java.time.Instant;

/** A {@link ShortLivedStore} in memory: bounded, with expiry; a restart forgets it. */
public final class MemoryShortLivedStore<V extends ShortLivedStore.Owned> implements ShortLivedStore<V> {
    private final ExpiringMap<V> map;

    public MemoryShortLivedStore(int max) {
        this.map = new ExpiringMap<>(max);
    }

    @Override
    public boolean put(String key, V value, Instant expiresAt, Instant now, ExpiringMap.Policy policy) {
        return map.put(key, value, expiresAt, now, policy);
    }

    @Override
    public V get(String key, Instant now) {
        return map.get(key, now);
    }

    @Override
    public V take(String key, Instant now) {
        return map.take(key, now);
    }

    @Override
    public boolean replace(String key, V expected, V next, Instant expiresAt, Instant now) {
        return map.replace(key, expected, next, expiresAt, now);
    }

    @Override
    public boolean remove(String key) {
        return map.remove(key) != null;
    }

    @Override
    public int removeByUser(String userId, String keepKey) {
        return userId == null ? 0 : map.removeWhere((k, v) -> userId.equals(v.userId()) && !k.equals(keepKey));
    }

    @Override
    public int removeByClient(String clientId) {
        return clientId == null ? 0 : map.removeWhere((k, v) -> clientId.equals(v.clientId()));
    }

    @Override
    public int sweep(Instant now) {
        return map.sweep(now);
    }

    @Override
    public int count() {
        return map.size();
    }
}
