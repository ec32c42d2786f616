package io.mcpoauth.core;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * A bounded in-memory map whose entries expire: authorization codes, access tokens, pending authorizations, browser
 * sessions, upstream {@code state}. Reads are lock-free; writes take one lock and cost O(1) amortised, full or not.
 *
 * <p>Every entry is queued in insertion order (one queue for entries put {@linkplain Policy#evictable evictable},
 * one for the others). When the map is full, a put first drops expired entries from the heads of the queues, then
 * evicts the oldest evictable entry; only when every entry is live and not evictable does it refuse (the caller
 * answers 503) rather than growing without bound. Removed entries leave their queue node behind; queues are
 * compacted once they hold more than twice their live entries, so each node is visited a bounded number of times.
 *
 * <p>An entry may also name {@linkplain Policy#owners owners} (a client address, a browser), each with a cap: putting
 * an entry whose owner already holds {@code cap} live entries first evicts that owner's oldest one. One visitor can
 * then never hold more than its cap, whatever it sends.
 */
public final class ExpiringMap<V> {
    /** An owner key and how many live entries it may hold. */
    public record Owner(String key, int cap) {
        public Owner {
            if (key == null || cap < 1) throw new IllegalArgumentException("an owner needs a key and a cap of at least 1");
        }
    }

    /**
     * How an entry is kept: {@code evictable} ones make room for newer entries when the map is full (oldest first);
     * {@code owners} cap how many entries each owner holds.
     */
    public record Policy(boolean evictable, List<Owner> owners) {
        public static final Policy KEEP = new Policy(false, List.of());
        public static final Policy EVICTABLE = new Policy(true, List.of());

        public Policy {
            owners = List.copyOf(owners);
        }

        public static Policy evictable(Owner... owners) {
            return new Policy(true, List.of(owners));
        }

        public static Policy keep(Owner... owners) {
            return new Policy(false, List.of(owners));
        }
    }

    private static final class Entry<V> {
        final String key;
        final V value;
        final long expiresAtMillis;
        final Policy policy;

        Entry(String key, V value, long expiresAtMillis, Policy policy) {
            this.key = key;
            this.value = value;
            this.expiresAtMillis = expiresAtMillis;
            this.policy = policy;
        }
    }

    /** Entries of one class (evictable or kept, or of one owner) in insertion order, with how many of them are live. */
    private static final class Queue<V> {
        final ArrayDeque<Entry<V>> nodes = new ArrayDeque<>();
        int live;
    }

    private final ConcurrentHashMap<String, Entry<V>> entries = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final Object lock = new Object();
    private final Queue<V> evictable = new Queue<>();
    private final Queue<V> kept = new Queue<>();
    private final Map<String, Queue<V>> owners = new HashMap<>();
    private long evictions;

    public ExpiringMap(int maxEntries) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be at least 1");
        this.maxEntries = maxEntries;
    }

    /** Stores the entry (kept: never evicted for room); false when the map is full of live entries. */
    public boolean put(String key, V value, Instant expiresAt, Instant now) {
        return put(key, value, expiresAt, now, Policy.KEEP);
    }

    /**
     * Stores the entry under {@code policy}, replacing any entry of that key. Makes room first: the oldest entry of an
     * owner at its cap, expired entries, then the oldest evictable entry. False only when the map is full of live
     * entries none of which may be evicted.
     */
    public boolean put(String key, V value, Instant expiresAt, Instant now, Policy policy) {
        long t = now.toEpochMilli();
        Entry<V> e = new Entry<>(key, value, expiresAt.toEpochMilli(), policy == null ? Policy.KEEP : policy);
        synchronized (lock) {
            Entry<V> old = entries.get(key);
            if (old != null) {
                entries.remove(key);
                released(old);
            }
            for (Owner o : e.policy.owners()) {
                Queue<V> q = owners.get(o.key());
                while (q != null && q.live >= o.cap()) {
                    Entry<V> oldest = pollLive(q);
                    if (oldest == null) break;
                    evict(oldest);
                    q = owners.get(o.key());
                }
            }
            if (entries.size() >= maxEntries && !makeRoom(t)) return false;
            entries.put(key, e);
            enqueue(e.policy.evictable() ? evictable : kept, e);
            for (Owner o : e.policy.owners()) enqueue(owners.computeIfAbsent(o.key(), k -> new Queue<>()), e);
            return true;
        }
    }

    /** The live value, or null when absent or expired. */
    public V get(String key, Instant now) {
        Entry<V> e = key == null ? null : entries.get(key);
        if (e == null) return null;
        if (e.expiresAtMillis <= now.toEpochMilli()) {
            remove(key, e);
            return null;
        }
        return e.value;
    }

    /** Removes and returns the live value: exactly one caller wins a race for the same key. */
    public V take(String key, Instant now) {
        if (key == null) return null;
        Entry<V> e;
        synchronized (lock) {
            e = entries.remove(key);
            if (e != null) released(e);
        }
        if (e == null || e.expiresAtMillis <= now.toEpochMilli()) return null;
        return e.value;
    }

    /**
     * Replaces the live value {@code expected} (by equality) with {@code next}, under the same policy; false when it is
     * absent, expired or different.
     */
    public boolean replace(String key, V expected, V next, Instant expiresAt, Instant now) {
        if (key == null) return false;
        synchronized (lock) {
            Entry<V> e = entries.get(key);
            if (e == null || e.expiresAtMillis <= now.toEpochMilli() || !e.value.equals(expected)) return false;
            entries.remove(key);
            released(e);
            Entry<V> n = new Entry<>(key, next, expiresAt.toEpochMilli(), e.policy);
            entries.put(key, n);
            enqueue(n.policy.evictable() ? evictable : kept, n);
            for (Owner o : n.policy.owners()) enqueue(owners.computeIfAbsent(o.key(), k -> new Queue<>()), n);
            return true;
        }
    }

    public V remove(String key) {
        if (key == null) return null;
        synchronized (lock) {
            Entry<V> e = entries.remove(key);
            if (e == null) return null;
            released(e);
            return e.value;
        }
    }

    /** Removes every live entry whose value matches; returns how many. */
    public int removeIf(Predicate<V> which) {
        return removeWhere((k, v) -> which.test(v));
    }

    /** Removes every live entry whose key and value match; returns how many. */
    public int removeWhere(BiPredicate<String, V> which) {
        int n = 0;
        for (Entry<V> e : entries.values()) {
            if (which.test(e.key, e.value) && remove(e.key, e)) n++;
        }
        return n;
    }

    /** Removes every expired entry (a full scan: for the periodic sweeper, never on the request path). */
    public int sweep(Instant now) {
        long t = now.toEpochMilli();
        int n = 0;
        for (Entry<V> e : entries.values()) {
            if (e.expiresAtMillis <= t && remove(e.key, e)) n++;
        }
        return n;
    }

    public int size() {
        return entries.size();
    }

    /** How many live entries were evicted to make room (for metrics and tests). */
    public long evictions() {
        synchronized (lock) {
            return evictions;
        }
    }

    /** How many live entries {@code owner} holds. */
    public int owned(String owner) {
        synchronized (lock) {
            Queue<V> q = owners.get(owner);
            return q == null ? 0 : q.live;
        }
    }

    // ---- under the lock ----

    private boolean remove(String key, Entry<V> e) {
        synchronized (lock) {
            if (!entries.remove(key, e)) return false;
            released(e);
            return true;
        }
    }

    /** Drops expired heads, then evicts the oldest evictable entry; false when nothing could go. */
    private boolean makeRoom(long t) {
        dropExpiredHeads(evictable, t);
        dropExpiredHeads(kept, t);
        if (entries.size() < maxEntries) return true;
        Entry<V> oldest = pollLive(evictable);
        if (oldest == null) return false;
        evict(oldest);
        return true;
    }

    private void dropExpiredHeads(Queue<V> q, long t) {
        for (Entry<V> head; (head = q.nodes.peekFirst()) != null; ) {
            if (entries.get(head.key) != head) {
                q.nodes.pollFirst(); // removed earlier: a stale node
            } else if (head.expiresAtMillis <= t) {
                q.nodes.pollFirst();
                entries.remove(head.key);
                released(head, q);
            } else {
                return;
            }
        }
    }

    /** Removes and returns the oldest live entry of {@code q}'s nodes (still in the map), or null. */
    private Entry<V> pollLive(Queue<V> q) {
        for (Entry<V> head; (head = q.nodes.pollFirst()) != null; ) {
            if (entries.get(head.key) == head) return head;
        }
        return null;
    }

    /** Takes a live entry out of the map whose node was already polled from one queue. */
    private void evict(Entry<V> e) {
        entries.remove(e.key);
        released(e);
        evictions++;
    }

    private void released(Entry<V> e) {
        released(e, null);
    }

    /** Counts {@code e} out of every queue it is in; {@code polled} already lost its node. */
    private void released(Entry<V> e, Queue<V> polled) {
        release(e.policy.evictable() ? evictable : kept);
        for (Owner o : e.policy.owners()) {
            Queue<V> q = owners.get(o.key());
            if (q == null) continue;
            release(q);
            if (q.live == 0) owners.remove(o.key());
        }
    }

    private void release(Queue<V> q) {
        q.live--;
        if (q.nodes.size() > 2 * q.live + 16) compact(q);
    }

    private void enqueue(Queue<V> q, Entry<V> e) {
        q.nodes.addLast(e);
        q.live++;
    }

    /** Drops stale nodes; runs after at least {@code live + 16} removals, so its cost is O(1) per removal. */
    private void compact(Queue<V> q) {
        q.nodes.removeIf(n -> entries.get(n.key) != n);
    }
}
