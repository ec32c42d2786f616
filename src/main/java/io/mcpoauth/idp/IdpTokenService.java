package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Events;
import io.mcpoauth.core.IdpAccess;
import io.mcpoauth.core.Json;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.TokenCipher;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UserStore' upstream tokens: encrypted at rest ({@link TokenCipher}, user id as associated data), handed to tools
 * through {@link IdpAccess}, refreshed transparently shortly before they expire under a per-user lock (one
 * refresh at a time per user; the others wait and reuse its result). Only the provider's {@code invalid_grant}
 * deletes a stored token; any other failure leaves it for a later retry.
 */
public final class IdpTokenService implements IdpAccess {
    private static final Logger LOG = LoggerFactory.getLogger(IdpTokenService.class);
    /** Refresh this long before the access token expires. */
    static final Duration REFRESH_MARGIN = Duration.ofSeconds(60);

    private final IdpClient client;
    private final IdpTokenStore tokens;
    private final TokenCipher cipher;
    private final Clock clock;
    private final String accountUrl;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private volatile Events events = Events.NONE;

    public IdpTokenService(IdpClient client, IdpTokenStore tokens, TokenCipher cipher, Clock clock, String accountUrl) {
        this.client = client;
        this.tokens = tokens;
        this.cipher = cipher;
        this.clock = clock;
        this.accountUrl = accountUrl;
    }

    /** Where refresh outcomes are counted (/metrics). */
    public IdpTokenService events(Events events) {
        this.events = events == null ? Events.NONE : events;
        return this;
    }

    public IdpProvider provider() {
        return client.provider;
    }

    /** The decrypted secret part of a record. */
    private record Secret(String accessToken, String refreshToken, String tokenType) {
        @Override
        public String toString() {
            return "Secret[redacted]";
        }
    }

    /** What the account page shows about the upstream connection. */
    public record Status(String state, String provider, Instant expiresAt, List<String> scopes, boolean refreshable, Instant obtainedAt,
                         Instant refreshedAt) {
        public static final String CONNECTED = "connected";
        public static final String REAUTHENTICATION_REQUIRED = "reauthentication_required";
        public static final String NOT_CONNECTED = "not_connected";
    }

    /** Stores the tokens of a sign-in; keeps the earlier refresh token when the provider sent none this time. */
    public void save(String userId, TokenSet t, Instant now) {
        IdpTokenRecord old = tokens.get(userId);
        String refresh = t.refreshToken();
        if (refresh == null && old != null) {
            Secret s = tryDecrypt(old);
            if (s != null) refresh = s.refreshToken();
        }
        tokens.put(record(userId, new Secret(t.accessToken(), refresh, t.tokenType()), t, now, null));
    }

    private IdpTokenRecord record(String userId, Secret s, TokenSet t, Instant obtainedAt, Instant refreshedAt) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("access_token", s.accessToken());
        if (s.refreshToken() != null) m.put("refresh_token", s.refreshToken());
        if (s.tokenType() != null) m.put("token_type", s.tokenType());
        byte[] plain;
        try {
            plain = Json.MAPPER.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String ct = cipher.encrypt(plain, IdpTokenRecord.associatedData(userId));
        Arrays.fill(plain, (byte) 0);
        Instant now = refreshedAt != null ? refreshedAt : obtainedAt;
        Instant expiresAt = t.expiresIn() == null || t.expiresIn() <= 0 ? null : now.plusSeconds(t.expiresIn());
        List<String> scopes = t.scope() != null ? List.of(t.scope().split("[\\s,]+")) : List.of(client.provider.scopeString().split(" "));
        return new IdpTokenRecord(userId, client.provider.id(), cipher.keyId(), ct, scopes, expiresAt, s.refreshToken() != null,
                obtainedAt, refreshedAt);
    }

    private Secret tryDecrypt(IdpTokenRecord r) {
        try {
            byte[] plain = cipher.decrypt(r.ciphertext(), IdpTokenRecord.associatedData(r.userId()));
            JsonNode n = Json.MAPPER.readTree(plain);
            Arrays.fill(plain, (byte) 0);
            String at = n.path("access_token").asText(null);
            if (at == null) return null;
            return new Secret(at, n.path("refresh_token").asText(null), n.path("token_type").asText(null));
        } catch (TokenCipher.Unreadable | IOException e) {
            return null;
        }
    }

    private Secret decrypt(IdpTokenRecord r) {
        Secret s = tryDecrypt(r);
        if (s == null) {
            LOG.warn("The stored upstream token of {} cannot be decrypted (changed, or bound to another user); the user must sign in again", r.userId());
            throw reauth("Your stored " + client.provider.displayName() + " credentials cannot be read");
        }
        return s;
    }

    private ReauthenticationRequired reauth(String why) {
        return new ReauthenticationRequired("Re-authentication required: " + why + ". Sign in again with "
                + client.provider.displayName() + " at " + accountUrl + " (or reconnect the application).");
    }

    private static boolean fresh(IdpTokenRecord r, Instant now) {
        return r.expiresAt() == null || r.expiresAt().minus(REFRESH_MARGIN).isAfter(now);
    }

    private static boolean expired(IdpTokenRecord r, Instant now) {
        return r.expiresAt() != null && !r.expiresAt().isAfter(now);
    }

    @Override
    public String accessToken(String userId) {
        IdpTokenRecord r = tokens.get(userId);
        if (r == null) throw reauth("no " + client.provider.displayName() + " account is connected");
        Secret s = decrypt(r);
        Instant now = clock.instant();
        if (fresh(r, now)) return s.accessToken();
        ReentrantLock lock = locks.computeIfAbsent(userId, k -> new ReentrantLock());
        boolean locked;
        try {
            locked = lock.tryLock(client.calls.timeout().toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            if (!expired(r, now)) return s.accessToken();
            throw new Unavailable(client.provider.displayName() + " is busy refreshing your access; try again in a moment.");
        }
        try {
            return refreshLocked(userId, clock.instant());
        } finally {
            lock.unlock();
        }
    }

    private String refreshLocked(String userId, Instant now) {
        IdpTokenRecord r = tokens.get(userId);
        if (r == null) throw reauth("no " + client.provider.displayName() + " account is connected");
        Secret s = decrypt(r);
        if (fresh(r, now)) return s.accessToken(); // another call refreshed it meanwhile
        if (s.refreshToken() == null) {
            if (!expired(r, now)) return s.accessToken();
            throw reauth("your " + client.provider.displayName() + " access has expired and cannot be renewed");
        }
        TokenSet t;
        try {
            t = client.refresh(s.refreshToken());
        } catch (IdpClient.Error e) {
            events.upstreamRefresh(e.kind.name().toLowerCase(java.util.Locale.ROOT));
            if (e.kind == IdpClient.Kind.INVALID_GRANT) {
                boolean removed = tokens.removeIfSame(r);
                LOG.info("{} answered invalid_grant to the refresh for {}: {}", client.provider.displayName(), userId,
                        removed ? "stored upstream token deleted" : "it was replaced meanwhile");
                throw reauth(client.provider.displayName() + " no longer accepts your stored sign-in");
            }
            LOG.warn("Refreshing the upstream token of {} failed ({}); kept for a later retry", userId, e.getMessage());
            if (!expired(r, now)) return s.accessToken();
            throw new Unavailable(client.provider.displayName() + " could not renew your access right now (" + e.kind.name().toLowerCase(java.util.Locale.ROOT)
                    + "); try again shortly.");
        }
        events.upstreamRefresh("refreshed");
        Secret next = new Secret(t.accessToken(), t.refreshToken() != null ? t.refreshToken() : s.refreshToken(),
                t.tokenType() != null ? t.tokenType() : s.tokenType());
        IdpTokenRecord updated = record(userId, next, t, r.obtainedAt(), now);
        try {
            if (!tokens.replace(r, updated)) LOG.info("The upstream token of {} was replaced during a refresh; keeping the newer one", userId);
        } catch (StoreException e) {
            LOG.error("Could not store the refreshed upstream token of {}: {}", userId, e.getMessage());
        }
        return next.accessToken();
    }

    /** The upstream connection of {@code userId} for the account page. */
    public Status status(String userId) {
        IdpTokenRecord r = tokens.get(userId);
        String provider = client.provider.id();
        if (r == null) return new Status(Status.NOT_CONNECTED, provider, null, List.of(), false, null, null);
        Instant now = clock.instant();
        boolean usable = tryDecrypt(r) != null && (r.refreshable() || !expired(r, now));
        return new Status(usable ? Status.CONNECTED : Status.REAUTHENTICATION_REQUIRED, provider, r.expiresAt(), r.scopes(), r.refreshable(),
                r.obtainedAt(), r.refreshedAt());
    }

    @Override
    public boolean forget(String userId) {
        return tokens.remove(userId);
    }

    /** Forgets the user's upstream tokens (the user's own choice on the account page). */
    public boolean disconnect(String userId) {
        boolean removed = tokens.remove(userId);
        if (removed) LOG.info("{} disconnected their {} account", userId, client.provider.displayName());
        return removed;
    }
}
