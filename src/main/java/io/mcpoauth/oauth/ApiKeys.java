package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ApiKeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The rules of API keys, over the {@link ApiKeyStore}. A key reads {@code mcpk_<id>.<secret>}: the record is found
 * by its id without an index, and the whole key is checked against the stored SHA-256 in constant time. Revoking
 * removes the record, so the very next request with the key is refused.
 */
public final class ApiKeys {
    private static final java.util.regex.Pattern KEY_ID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,32}");
    /** Last-used times are persisted at most this often per key. */
    public static final Duration LAST_USED_RESOLUTION = Duration.ofMinutes(1);
    static final int MAX_NAME = 100;
    /** Compared against when the id is unknown, so unknown and known ids take the same path. */
    private static final String NO_HASH = Secrets.hash(Secrets.mint(Secrets.API_KEY));

    private final ApiKeyStore store;

    public ApiKeys(ApiKeyStore store) {
        this.store = store;
    }

    /** A new key: the record and the key itself, to be shown once. */
    public record Created(ApiKeyRecord record, String key) {}

    /** Stores a new key for {@code userId}; durable before it returns. */
    public Created create(String userId, String name, List<String> scopes, Instant now) {
        String id = Secrets.randomString(9); // 12 characters
        String key = Secrets.API_KEY + id + "." + Secrets.randomString(32);
        ApiKeyRecord r = new ApiKeyRecord(id, userId, name, scopes, Secrets.hash(key), Instant.ofEpochSecond(now.getEpochSecond()), null);
        store.create(r);
        return new Created(r, key);
    }

    /** The record of a presented key, or null when it is unknown, revoked or wrong. Changes nothing. */
    public ApiKeyRecord find(String presented) {
        String id = idOf(presented);
        ApiKeyRecord r = id == null ? null : store.get(id);
        boolean ok = Secrets.matches(presented == null ? "" : presented, r == null ? NO_HASH : r.hash());
        return ok && r != null ? r : null;
    }

    /** Records a use; writes at most once per {@link #LAST_USED_RESOLUTION} per key. True when it wrote. */
    public boolean markUsed(String id, Instant now) {
        ApiKeyRecord r = store.get(id);
        if (r == null || !due(r, now)) return false;
        return store.replace(r, r.withLastUsedAt(now));
    }

    private static boolean due(ApiKeyRecord r, Instant now) {
        return r.lastUsedAt() == null || !r.lastUsedAt().plus(LAST_USED_RESOLUTION).isAfter(now);
    }

    public ApiKeyRecord get(String id) {
        return id == null ? null : store.get(id);
    }

    public boolean revoke(String id) {
        return id != null && store.remove(id);
    }

    /** Revokes every key of a user; returns them. */
    public List<ApiKeyRecord> revokeUser(String userId) {
        return store.removeByUser(userId);
    }

    /** Every key, sorted by id. */
    public List<ApiKeyRecord> list() {
        return store.list();
    }

    public int size() {
        return store.count();
    }

    /** The id inside {@code mcpk_<id>.<secret>} (or {@code mcpk_<id>} alone), or null when it is not of that shape. */
    public static String idOf(String key) {
        if (key == null || !key.startsWith(Secrets.API_KEY) || key.length() > 200) return null;
        int dot = key.indexOf('.', Secrets.API_KEY.length());
        String id = dot < 0 ? key.substring(Secrets.API_KEY.length()) : key.substring(Secrets.API_KEY.length(), dot);
        return KEY_ID.matcher(id).matches() ? id : null;
    }

    /** A key name: 1 to 100 characters, no control characters. */
    public static String checkName(String name) {
        String n = name == null ? "" : name.strip();
        if (n.isEmpty() || n.length() > MAX_NAME || n.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
            throw new IllegalArgumentException("An API key name is 1 to " + MAX_NAME + " characters without control characters.");
        }
        return n;
    }
}
