package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.resource.McpReply;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Upstream tool calls of 2026-07-28 clients that asked the client something (elicitation/create...): the modern era
 * has no server-to-client requests, so the call answers an InputRequiredResult and the upstream call stays pending
 * here, on a thread of a bounded pool, until the client's retry brings the answer (or the call's deadline passes).
 * A round is named by a random id inside the retry's {@code requestState}, which is HMAC-sealed (with the server's
 * request-state key) over the id, the user, the tool and the expiry; a round is bound to its user.
 */
final class InputRounds implements AutoCloseable {
    static final int MAX_ROUNDS = 1_000;
    static final int MAX_PER_USER = 8;
    static final int MAX_THREADS = 256;
    private static final String PREFIX = "gw1.";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What the upstream call did next: asked something (respond sends the answer up), ended with {@code reply}, or
     * sent a {@code progress} notification.
     */
    record Event(JsonNode request, Consumer<JsonNode> respond, McpReply reply, JsonNode progress) {}

    static final class Round {
        final String id;
        final String user;
        final String tool;
        final long deadlineNanos;
        final BlockingQueue<Event> events = new ArrayBlockingQueue<>(64);
        volatile Event waiting;

        Round(String id, String user, String tool, long deadlineNanos) {
            this.id = id;
            this.user = user;
            this.tool = tool;
            this.deadlineNanos = deadlineNanos;
        }

        /** Called by the upstream call's thread; an overflowing round is answered with an error at once. */
        void offer(Event e) {
            if (e.progress != null) { // progress may be dropped, never the room left for questions and the end
                if (events.remainingCapacity() > 8) events.offer(e);
                return;
            }
            if (!events.offer(e) && e.respond != null) {
                e.respond.accept(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().set("error",
                        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("code", McpReply.INTERNAL_ERROR)
                                .put("message", "too many requests in one call")));
            }
        }
    }

    private final byte[] key;
    private final Map<String, Round> rounds = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, MAX_THREADS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "mcp-gateway-input-round");
        t.setDaemon(true);
        return t;
    });

    InputRounds(byte[] key) {
        this.key = key.clone();
    }

    ExecutorService pool() {
        return pool;
    }

    /** A new round for {@code user}, or null when a cap is reached. */
    synchronized Round open(String user, String tool, long ttlNanos) {
        long now = System.nanoTime();
        rounds.values().removeIf(r -> now - r.deadlineNanos > 0);
        if (rounds.size() >= MAX_ROUNDS || rounds.values().stream().filter(r -> r.user.equals(user)).count() >= MAX_PER_USER) return null;
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        Round r = new Round(Base64.getUrlEncoder().withoutPadding().encodeToString(b), user, tool, now + ttlNanos);
        rounds.put(r.id, r);
        return r;
    }

    /** Runs {@code work} on the pool; false when every thread is busy. */
    boolean start(Runnable work) {
        try {
            pool.execute(work);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    void close(Round r) {
        rounds.remove(r.id, r);
    }

    /** True for a requestState the gateway made (whether or not it is still valid). */
    static boolean ours(String state) {
        return state != null && state.startsWith(PREFIX);
    }

    /** The requestState naming {@code r}. */
    String seal(Round r) {
        long expires = System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(Math.max(0, r.deadlineNanos - System.nanoTime()));
        String body = r.id + "." + expires;
        return PREFIX + body + "." + mac(body + "\n" + r.user + "\n" + r.tool);
    }

    /** The round a requestState names, for {@code user} and {@code tool}; null when it is forged, expired, ended or another's. */
    Round open(String state, String user, String tool) {
        if (!ours(state)) return null;
        String[] parts = state.substring(PREFIX.length()).split("\\.");
        if (parts.length != 3) return null;
        String body = parts[0] + "." + parts[1];
        byte[] expected = mac(body + "\n" + user + "\n" + tool).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, parts[2].getBytes(StandardCharsets.US_ASCII))) return null;
        try {
            if (Long.parseLong(parts[1]) < System.currentTimeMillis()) return null;
        } catch (NumberFormatException e) {
            return null;
        }
        Round r = rounds.get(parts[0]);
        return r != null && r.user.equals(user) && r.tool.equals(tool) ? r : null;
    }

    private static final String UPSTREAM_PREFIX = "up1.";

    /** True for a requestState wrapping a 2026-07-28 upstream's own. */
    static boolean upstreams(String state) {
        return state != null && state.startsWith(UPSTREAM_PREFIX);
    }

    /** A 2026-07-28 upstream's requestState, bound to {@code user} and {@code tool} (the upstream sees one identity for all users). */
    String sealUpstream(String user, String tool, String upstreamState) {
        String b = Base64.getUrlEncoder().withoutPadding().encodeToString(upstreamState.getBytes(StandardCharsets.UTF_8));
        return UPSTREAM_PREFIX + b + "." + mac("upstream\n" + b + "\n" + user + "\n" + tool);
    }

    /** The upstream's requestState inside {@code state}, or null when it is forged or another user's or tool's. */
    String openUpstream(String state, String user, String tool) {
        if (!upstreams(state)) return null;
        String[] parts = state.substring(UPSTREAM_PREFIX.length()).split("\\.");
        if (parts.length != 2) return null;
        byte[] expected = mac("upstream\n" + parts[0] + "\n" + user + "\n" + tool).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, parts[1].getBytes(StandardCharsets.US_ASCII))) return null;
        try {
            return new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private String mac(String s) {
        return io.mcpoauth.core.Hmac.base64(key, "mcp-gateway-round\n" + s);
    }

    int size() {
        return rounds.size();
    }

    @Override
    public void close() {
        pool.shutdownNow();
        rounds.clear();
    }
}
