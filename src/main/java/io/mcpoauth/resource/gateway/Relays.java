package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The requests upstream servers sent to a client during a call (elicitation/create, sampling/createMessage...) and
 * that wait for the client's response: each under an id of ours (random, 128 bits), bound to the user it was sent
 * to; a response is delivered only for that id and that user, at most once. Bounded per user and in all; an entry
 * lives until it is answered, its call ends, or its deadline passes.
 */
final class Relays {
    static final int MAX_PER_USER = 8;
    static final int MAX_TOTAL = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Pending(String user, Consumer<JsonNode> answer, long deadlineNanos) {}

    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Map<String, Integer> perUser = new ConcurrentHashMap<>();

    /** Registers a request sent to {@code user}; its id, or null when a cap is reached. */
    synchronized String register(String user, Consumer<JsonNode> answer, long ttlNanos) {
        sweep();
        if (pending.size() >= MAX_TOTAL || perUser.getOrDefault(user, 0) >= MAX_PER_USER) return null;
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        String id = "gw-" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        pending.put(id, new Pending(user, answer, System.nanoTime() + ttlNanos));
        perUser.merge(user, 1, Integer::sum);
        return id;
    }

    /** Hands {@code response} to the request {@code id} if it is pending for {@code user}; false otherwise (nothing delivered). */
    boolean deliver(String user, JsonNode id, JsonNode response) {
        if (id == null || !id.isTextual()) return false;
        Pending p;
        synchronized (this) {
            p = pending.get(id.asText());
            if (p == null || !p.user.equals(user) || System.nanoTime() - p.deadlineNanos > 0) return false;
            remove(id.asText());
        }
        p.answer.accept(response);
        return true;
    }

    /** Forgets {@code id} (its call ended). */
    synchronized void forget(String id) {
        remove(id);
    }

    synchronized int size() {
        return pending.size();
    }

    private void remove(String id) {
        Pending p = pending.remove(id);
        if (p != null) perUser.computeIfPresent(p.user, (k, n) -> n <= 1 ? null : n - 1);
    }

    private void sweep() {
        long now = System.nanoTime();
        pending.entrySet().removeIf(e -> {
            boolean old = now - e.getValue().deadlineNanos > 0;
            if (old) perUser.computeIfPresent(e.getValue().user, (k, n) -> n <= 1 ? null : n - 1);
            return old;
        });
    }
}
