package io.mcpoauth.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.core.pkce.PKCE;
import com.github.scribejava.core.pkce.PKCEService;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Json;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import io.mcpoauth.store.IdpStateRecord;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.TokenCipher;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users' vault of connections: the connect flow (state, PKCE, the callback's checks, the code exchange), the
 * encrypted records, the refresh, the status and the disconnect. It is the {@link ConnectionAccess} tools and gateway
 * upstreams use.
 *
 * <p><b>Refresh.</b> An access token is refreshed {@link #REFRESH_AHEAD} before it expires. In this process at most one
 * refresh per (user, connection) runs at a time (a bounded set of locks; the others wait, bounded, and reuse its
 * result). Across processes and restarts, a durable marker is stored (compare-and-set on the record's revision)
 * <em>before</em> the refresh token is sent, and cleared with the answer. So a provider whose refresh tokens work once
 * never sees one twice: a marker that outlived its process (a crash or kill -9 during the call), or an answer that
 * was lost (a timeout after the request may have arrived), means the token may be spent, and the connection becomes
 * "needs reconnect" instead of being retried, unless the provider's token introspection (RFC 7662, which does not
 * use the token up) says the refresh token is still active: then it was never used and the refresh goes ahead. With
 * {@code "rotating_refresh_tokens": false} (Google) such a connection is simply refreshed again. Only the provider's {@code invalid_grant} marks a connection "needs reconnect"
 * otherwise; a provider that cannot be reached, or another error answer, is {@link ConnectionAccess.Unavailable}
 * (nothing spent, the marker cleared, retried on the next call).
 */
public final class Connections implements ConnectionAccess {
    private static final Logger LOG = LoggerFactory.getLogger(Connections.class);
    public static final Duration REFRESH_AHEAD = Duration.ofSeconds(60);
    public static final Duration STATE_TTL = Duration.ofMinutes(10);
    /** last_used_at is written at most this often per connection. */
    static final Duration USE_THROTTLE = Duration.ofSeconds(60);
    static final String STATE_PREFIX = "connect:";
    public static final String CONNECT_PATH = "/connect/";
    public static final String CALLBACK_PATH = "/connect/callback";
    private static final int LOCKS = 64;
    public static final int MAX_SECRET_LENGTH = 8192;

    private final ConnectionProviders providers;
    private final Map<String, ConnectionClient> clients = new java.util.concurrent.ConcurrentHashMap<>();
    /** {@code "mcp_server"} providers once discovered and registered (one per configured connection: bounded). */
    private final Map<String, ConnectionProvider> resolved = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, String[]> resolveFailures = new java.util.concurrent.ConcurrentHashMap<>();
    /** The reserved user id under which the client registration at an upstream MCP server's authorization server is stored. */
    public static final String REGISTRATION_USER = "~mcp-client";
    static final Duration RESOLVE_RETRY = Duration.ofSeconds(10);
    private final ConnectionStore store;
    private final TokenCipher cipher;
    private final ShortLivedStore<IdpStateRecord> states;
    private final Clock clock;
    private final String baseUrl;
    private final Duration timeout;
    /** Another process's marker younger than this may be a refresh in progress; older, it was interrupted. */
    private final Duration markerDeadline;
    /** True when no other process shares the store (the file backend): another owner's marker is from before a restart. */
    private final boolean singleInstance;
    private final String instanceId = Secrets.randomString(12);
    private final ReentrantLock[] locks = new ReentrantLock[LOCKS];
    private final HttpClient http;

    /**
     * @param baseUrl        PUBLIC_URL: connect URLs are {@code <baseUrl>/connect/NAME}, the callback {@code <baseUrl>/connect/callback}
     * @param singleInstance whether this process is the only one using {@code store}
     */
    public Connections(ConnectionProviders providers, ConnectionStore store, TokenCipher cipher, ShortLivedStore<IdpStateRecord> states, Clock clock,
                       String baseUrl, Duration timeout, boolean singleInstance) {
        this.providers = providers;
        this.store = store;
        this.cipher = cipher;
        this.states = states;
        this.clock = clock;
        this.baseUrl = baseUrl;
        this.timeout = timeout;
        this.markerDeadline = timeout.multipliedBy(3).plusSeconds(5);
        this.singleInstance = singleInstance;
        for (int i = 0; i < LOCKS; i++) locks[i] = new ReentrantLock();
        for (ConnectionProvider p : providers.all()) {
            if (p.oauth() && providers.mcpServerUrl(p.name()) == null) clients.put(p.name(), new ConnectionClient(p, callbackUrl(), timeout));
        }
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
        checkKeys();
    }

    /** Refuses to start when stored connections were encrypted with another key (one clear line). */
    private void checkKeys() {
        Map<String, Integer> foreign = new TreeMap<>();
        for (ConnectionRecord r : store.list()) {
            if (!cipher.keyId().equals(r.keyId())) foreign.merge(String.valueOf(r.keyId()), 1, Integer::sum);
        }
        if (!foreign.isEmpty()) {
            int n = foreign.values().stream().mapToInt(Integer::intValue).sum();
            throw new ConfigException("The encryption key (key id " + cipher.keyId() + ", ENCRYPTION_KEY or encryption.key) is not the key that encrypted "
                    + n + " stored connection" + (n == 1 ? "" : "s") + " (key id " + String.join(", ", foreign.keySet())
                    + "). Refusing to start: set ENCRYPTION_KEY to the original key.");
        }
    }

    public ConnectionProviders providers() {
        return providers;
    }

    public String callbackUrl() {
        return baseUrl + CALLBACK_PATH;
    }

    /** Where we host the Client ID Metadata Document of an {@code "mcp_server"} connection. */
    public String clientMetadataUrl(String name) {
        return baseUrl + CONNECT_PATH + "client-metadata/" + name + ".json";
    }

    /**
     * The provider of {@code name} with its endpoints. An {@code "mcp_server"} connection is resolved at its first use
     * (not at start, so we start while the upstream is down): the upstream's authorization server is discovered and we
     * register with it ({@link McpServerAuth}); the registration is kept in the store under {@link #REGISTRATION_USER}
     * (encrypted, shared by every instance of a PostgreSQL store) and reused while the issuer stays the same. A failure is
     * remembered {@link #RESOLVE_RETRY} and thrown as {@link McpServerAuth.Failed}.
     */
    ConnectionProvider resolve(String name) {
        ConnectionProvider p = providers.get(name);
        String url = providers.mcpServerUrl(name);
        if (p == null || url == null) return p;
        ConnectionProvider done = resolved.get(name);
        if (done != null) return done;
        synchronized (p) {
            done = resolved.get(name);
            if (done != null) return done;
            String[] failed = resolveFailures.get(name);
            if (failed != null && Instant.parse(failed[0]).plus(RESOLVE_RETRY).isAfter(clock.instant())) throw new McpServerAuth.Failed(failed[1]);
            try {
                McpServerAuth auth = new McpServerAuth(timeout);
                McpServerAuth.Found f = auth.discover(url);
                McpServerAuth.Registration reg = storedRegistration(name, f.issuer());
                if (reg == null) {
                    reg = auth.register(f, callbackUrl(), clientMetadataUrl(name));
                    storeRegistration(name, reg);
                    LOG.info("Connection {}: registered at {} as client {}", name, f.issuer(), reg.clientId());
                }
                List<String> scopes = p.scopes().isEmpty() ? f.scopes() : p.scopes();
                ConnectionProvider q = new ConnectionProvider(name, ConnectionProvider.OAUTH, p.displayName(), f.authorizationEndpoint(), f.tokenEndpoint(),
                        f.revocationEndpoint(), null, f.issuer(), f.issParameter(), reg.clientId(), reg.clientSecret(), scopes, Map.of("resource", f.resource()),
                        reg.tokenAuth(), false, null, null, null, null);
                clients.put(name, new ConnectionClient(q, callbackUrl(), timeout));
                resolved.put(name, q);
                resolveFailures.remove(name);
                return q;
            } catch (McpServerAuth.Failed e) {
                LOG.warn("Connection {}: {}", name, e.getMessage());
                resolveFailures.put(name, new String[] {clock.instant().toString(), e.getMessage()});
                throw e;
            }
        }
    }

    private McpServerAuth.Registration storedRegistration(String name, String issuer) {
        ConnectionRecord r = store.get(REGISTRATION_USER, name);
        if (r == null) return null;
        try {
            com.fasterxml.jackson.databind.JsonNode j = io.mcpoauth.core.Json.MAPPER.readTree(decrypt(r, "access"));
            if (!issuer.equals(j.path("issuer").asText())) return null; // the upstream moved to another authorization server
            return new McpServerAuth.Registration(issuer, j.path("client_id").asText(), j.path("client_secret").asText(null), j.path("token_auth").asText("none"));
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private void storeRegistration(String name, McpServerAuth.Registration reg) {
        com.fasterxml.jackson.databind.node.ObjectNode j = io.mcpoauth.core.Json.MAPPER.createObjectNode();
        j.put("issuer", reg.issuer()).put("client_id", reg.clientId()).put("token_auth", reg.tokenAuth());
        if (reg.clientSecret() != null) j.put("client_secret", reg.clientSecret());
        Instant now = clock.instant();
        ConnectionRecord old = store.get(REGISTRATION_USER, name);
        store.put(new ConnectionRecord(REGISTRATION_USER, name, cipher.keyId(), encrypt(REGISTRATION_USER, name, "access", j.toString()), null, null,
                List.of(), reg.issuer(), ConnectionRecord.CONNECTED, now, null, null, null, null, old == null ? 1 : old.revision() + 1));
    }

    public String connectUrl(String name) {
        return baseUrl + CONNECT_PATH + name;
    }

    // ---- the vault: tokens for tools and upstreams ----

    @Override
    public Token token(String userId, String name) {
        ConnectionProvider p = providers.get(name);
        if (p == null) throw new NotConnected(name, null, false, "No connection named '" + name + "' is configured on this server.");
        ConnectionRecord r = store.get(userId, name);
        check(p, r);
        if (providers.mcpServerUrl(name) != null) {
            try {
                p = resolve(name);
            } catch (McpServerAuth.Failed e) {
                if (!expired(r, clock.instant())) return use(p, r, decrypt(r, "access"), clock.instant());
                throw new Unavailable("The sign-in of " + p.displayName() + " cannot be reached right now; try again shortly.");
            }
        }
        Instant now = clock.instant();
        if (!p.oauth() || r.refreshingSince() == null && fresh(r, now)) return use(p, r, decrypt(r, "access"), now);
        ReentrantLock lock = locks[Math.floorMod(r.key().hashCode(), LOCKS)];
        boolean locked;
        try {
            locked = lock.tryLock(markerDeadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            if (!expired(r, now)) return use(p, r, decrypt(r, "access"), now);
            throw new Unavailable(p.displayName() + " is busy renewing your access; try again in a moment.");
        }
        try {
            return refreshLocked(p, userId, name);
        } finally {
            lock.unlock();
        }
    }

    private void check(ConnectionProvider p, ConnectionRecord r) {
        if (r == null) {
            throw new NotConnected(p.name(), connectUrl(p.name()), false, "You have not connected " + p.displayName() + " yet. Open "
                    + connectUrl(p.name()) + " in your browser to connect it, then try again.");
        }
        if (ConnectionRecord.NEEDS_RECONNECT.equals(r.status())) throw reconnect(p, "your " + p.displayName() + " connection must be renewed");
    }

    private NotConnected reconnect(ConnectionProvider p, String why) {
        String url = connectUrl(p.name());
        return new NotConnected(p.name(), url, true, "Reconnect needed: " + why + ". Open " + url + " in your browser to connect again, then try again.");
    }

    private Token refreshLocked(ConnectionProvider p, String userId, String name) {
        for (int attempt = 0; attempt < 3; attempt++) {
            ConnectionRecord r = store.get(userId, name);
            check(p, r);
            Instant now = clock.instant();
            if (r.refreshingSince() == null && fresh(r, now)) return use(p, r, decrypt(r, "access"), now); // refreshed meanwhile
            if (r.refreshingSince() != null) {
                boolean ours = instanceId.equals(r.refreshOwner());
                boolean stale = ours || singleInstance || !r.refreshingSince().plus(markerDeadline).isAfter(now);
                if (!stale) {
                    // another instance is refreshing right now
                    if (!expired(r, now)) return use(p, r, decrypt(r, "access"), now);
                    throw new Unavailable(p.displayName() + " is busy renewing your access; try again in a moment.");
                }
                if (p.rotatingRefreshTokens()) {
                    // ask the provider, without using the token, whether it is still good (RFC 7662)
                    Boolean active = r.refreshCiphertext() == null ? Boolean.FALSE : clients.get(name).stillActive(decrypt(r, "refresh"), timeout);
                    if (active == null && p.introspectionEndpoint() != null) {
                        if (!expired(r, now)) return use(p, r, decrypt(r, "access"), now);
                        throw new Unavailable(p.displayName() + " could not confirm your connection right now; try again shortly.");
                    }
                    if (!Boolean.TRUE.equals(active)) {
                        LOG.warn("The refresh of {}'s {} connection started at {} never finished (interrupted, or its answer was lost): its refresh "
                                + "token {}, so it is not sent again; the user must reconnect", userId, name, r.refreshingSince(),
                                active == null ? "may be spent" : "was spent (the provider says it is no longer active)");
                        if (!store.replace(r, r.withStatus(ConnectionRecord.NEEDS_RECONNECT))) continue;
                        throw reconnect(p, "renewing your " + p.displayName() + " access was interrupted");
                    }
                    LOG.info("The refresh of {}'s {} connection started at {} never finished, but the provider says its refresh token is unused: "
                            + "refreshing", userId, name, r.refreshingSince());
                }
                // refresh tokens that stay valid: an interrupted refresh is simply done again
            }
            String refresh = r.refreshCiphertext() == null ? null : decrypt(r, "refresh");
            if (refresh == null) {
                if (!expired(r, now)) return use(p, r, decrypt(r, "access"), now);
                if (store.replace(r, r.withStatus(ConnectionRecord.NEEDS_RECONNECT))) {
                    throw reconnect(p, "your " + p.displayName() + " access has expired and cannot be renewed");
                }
                continue;
            }
            ConnectionRecord marked = r.marked(now, instanceId);
            if (!store.replace(r, marked)) continue; // changed meanwhile (another instance, a use): read again
            return refreshMarked(p, marked, refresh);
        }
        throw new Unavailable("Your " + p.displayName() + " connection is changing right now; try again in a moment.");
    }

    /** The marker is stored: the refresh token may be sent. */
    private Token refreshMarked(ConnectionProvider p, ConnectionRecord marked, String refreshToken) {
        ConnectionClient.Tokens t;
        try {
            t = clients.get(p.name()).refresh(refreshToken);
        } catch (ConnectionClient.Failure f) {
            Instant now = clock.instant();
            switch (f.kind) {
                case INVALID_GRANT -> {
                    LOG.info("{} answered invalid_grant to the refresh of {}'s connection: needs reconnect", p.displayName(), marked.userId());
                    replaceQuietly(marked, marked.withStatus(ConnectionRecord.NEEDS_RECONNECT));
                    throw reconnect(p, p.displayName() + " no longer accepts your stored connection");
                }
                case LOST -> {
                    if (p.rotatingRefreshTokens()) {
                        LOG.warn("Refreshing {}'s {} connection: {}; the refresh token may have been spent, it is not sent again",
                                marked.userId(), p.name(), f.getMessage());
                    } else {
                        replaceQuietly(marked, clearMarker(marked));
                    }
                }
                default -> {
                    LOG.warn("Refreshing {}'s {} connection failed ({}); kept for a later retry", marked.userId(), p.name(), f.getMessage());
                    replaceQuietly(marked, clearMarker(marked));
                }
            }
            if (!expired(marked, now)) return use(p, marked, decrypt(marked, "access"), now);
            throw new Unavailable(p.displayName() + " could not renew your access right now (" + f.kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + "); try again shortly.");
        }
        Instant now = clock.instant();
        String nextRefresh = t.refreshToken() != null ? t.refreshToken() : refreshToken;
        ConnectionRecord next = marked.next(cipher.keyId(), encrypt(marked.userId(), p.name(), "access", t.accessToken()),
                encrypt(marked.userId(), p.name(), "refresh", nextRefresh), expiry(t, now), scopes(p, t, marked.scopes()), marked.account(),
                ConnectionRecord.CONNECTED, now, now, null, null);
        try {
            if (!store.replace(marked, next)) LOG.info("{}'s {} connection changed during a refresh (disconnected?); the refreshed token is not kept", marked.userId(), p.name());
        } catch (StoreException e) {
            // the marker stays: the next use treats this refresh as interrupted
            LOG.error("Could not store the refreshed {} connection of {}: {}", p.name(), marked.userId(), e.getMessage());
        }
        return new Token(p.name(), t.accessToken(), next.expiresAt(), next.account());
    }

    private ConnectionRecord clearMarker(ConnectionRecord r) {
        return r.next(r.keyId(), r.accessCiphertext(), r.refreshCiphertext(), r.expiresAt(), r.scopes(), r.account(), r.status(), r.refreshedAt(),
                r.lastUsedAt(), null, null);
    }

    private void replaceQuietly(ConnectionRecord expected, ConnectionRecord next) {
        try {
            store.replace(expected, next);
        } catch (StoreException e) {
            LOG.error("Could not update the {} connection of {}: {}", expected.name(), expected.userId(), e.getMessage());
        }
    }

    /** The token, after noting the use (at most once a minute per connection; a failed note does not fail the call). */
    private Token use(ConnectionProvider p, ConnectionRecord r, String value, Instant now) {
        if (r.lastUsedAt() == null || !r.lastUsedAt().plus(USE_THROTTLE).isAfter(now)) {
            try {
                store.replace(r, r.usedAt(now));
            } catch (StoreException e) {
                LOG.debug("Could not note the use of {}'s {} connection: {}", r.userId(), r.name(), e.getMessage());
            }
        }
        return new Token(p.name(), value, r.expiresAt(), r.account());
    }

    private static boolean fresh(ConnectionRecord r, Instant now) {
        return r.expiresAt() == null || r.expiresAt().minus(REFRESH_AHEAD).isAfter(now);
    }

    private static boolean expired(ConnectionRecord r, Instant now) {
        return r.expiresAt() != null && !r.expiresAt().isAfter(now);
    }

    private String encrypt(String userId, String name, String field, String value) {
        if (value == null) return null;
        byte[] plain = value.getBytes(StandardCharsets.UTF_8);
        try {
            return cipher.encrypt(plain, ConnectionRecord.associatedData(userId, name, field));
        } finally {
            java.util.Arrays.fill(plain, (byte) 0);
        }
    }

    private String decrypt(ConnectionRecord r, String field) {
        String ct = field.equals("access") ? r.accessCiphertext() : r.refreshCiphertext();
        try {
            return new String(cipher.decrypt(ct, ConnectionRecord.associatedData(r.userId(), r.name(), field)), StandardCharsets.UTF_8);
        } catch (TokenCipher.Unreadable e) {
            LOG.warn("The stored {} connection of {} cannot be decrypted ({}); the user must reconnect", r.name(), r.userId(), e.getMessage());
            ConnectionProvider p = providers.get(r.name());
            throw reconnect(p, "your stored " + (p == null ? r.name() : p.displayName()) + " connection cannot be read");
        }
    }

    private static Instant expiry(ConnectionClient.Tokens t, Instant now) {
        return t.expiresIn() == null || t.expiresIn() <= 0 ? null : now.plusSeconds(t.expiresIn());
    }

    private static List<String> scopes(ConnectionProvider p, ConnectionClient.Tokens t, List<String> before) {
        if (t.scope() != null) return List.of(t.scope().split("[\\s,]+"));
        return before != null && !before.isEmpty() ? before : p.scopes();
    }

    // ---- the connect flow ----

    /** Thrown by the flow: an HTTP status and a sentence for the user's browser. */
    public static final class FlowError extends RuntimeException {
        public final int status;

        FlowError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * Starts connecting {@code name} for the signed-in {@code userId} of the browser session {@code sessionId}: a random
     * single-use state (10 minutes) bound to that session and user, a PKCE verifier; the URL to send the browser to.
     */
    public String begin(String name, String userId, String sessionId, Instant now) {
        ConnectionProvider p = providers.get(name);
        if (p == null) throw new FlowError(404, "There is no connection named '" + name + "' on this server.");
        if (!p.oauth()) throw new FlowError(400, p.displayName() + " is connected by pasting your secret on your account page.");
        try {
            p = resolve(name);
        } catch (McpServerAuth.Failed e) {
            throw new FlowError(502, "The sign-in of " + p.displayName() + " cannot be used right now: " + e.getMessage() + ". Try again shortly.");
        }
        String state = Secrets.randomString(32);
        PKCE pkce = PKCEService.defaultInstance().generatePKCE();
        IdpStateRecord s = new IdpStateRecord(STATE_PREFIX + name, Secrets.hash(sessionId), pkce.getCodeVerifier(), userId);
        if (!states.put(Secrets.hash(state), s, now.plus(STATE_TTL), now, ExpiringMap.Policy.EVICTABLE)) {
            throw new FlowError(503, "The server is handling too many sign-ins right now. Try again in a minute.");
        }
        return clients.get(name).authorizationUrl(state, pkce);
    }

    /**
     * The provider's answer at the callback, in the browser session {@code sessionId} signed in as {@code userId}
     * (null when not signed in): the state must be live, unused, made for this session and this user; {@code iss} must
     * name the provider when it sends one (and must be sent when the provider promises it, RFC 9207). Returns the
     * connection's name once its tokens are stored.
     */
    public String finish(Params q, String sessionId, String userId, Instant now) {
        String state = q.first("state");
        if (state == null || state.isEmpty() || state.length() > 512 || q.duplicated() != null) {
            throw new FlowError(400, "This answer has no valid state. Start again from your account page.");
        }
        IdpStateRecord s = states.take(Secrets.hash(state), now);
        if (s == null || s.pendingId() == null || !s.pendingId().startsWith(STATE_PREFIX)) {
            throw new FlowError(400, "This connect link is unknown, expired or was already used. Start again from your account page.");
        }
        if (sessionId == null || !Secrets.constantTimeEquals(s.sessionHash(), Secrets.hash(sessionId)) || userId == null || !userId.equals(s.nonce())) {
            LOG.warn("A connect answer for {} arrived in another browser session or for another user than the one who started it; refused",
                    s.pendingId().substring(STATE_PREFIX.length()));
            throw new FlowError(403, "This connection was started by someone else or in another browser. Nothing was connected. "
                    + "If you want to connect your own account, start from your account page.");
        }
        String name = s.pendingId().substring(STATE_PREFIX.length());
        ConnectionProvider p = providers.get(name);
        if (p == null || !p.oauth()) throw new FlowError(400, "The connection '" + name + "' is no longer configured.");
        try {
            p = resolve(name);
        } catch (McpServerAuth.Failed e) {
            throw new FlowError(503, "The sign-in of " + p.displayName() + " cannot be reached right now. Nothing was connected; try again shortly.");
        }
        String error = q.first("error");
        if (error != null) {
            String code = error.matches("[a-z_]{1,64}") ? error : "unknown";
            throw new FlowError(code.equals("access_denied") ? 403 : 502, p.displayName() + " did not allow the connection (" + code + "). Nothing was connected.");
        }
        String iss = q.first("iss");
        if (p.issuer() != null && (iss != null && !iss.equals(p.issuer()) || iss == null && p.issParameter())) {
            throw new FlowError(400, "This answer did not come from " + p.displayName() + " (issuer mismatch). Nothing was connected.");
        }
        String code = q.first("code");
        if (code == null || code.isEmpty() || code.length() > 4096) throw new FlowError(400, "The answer from " + p.displayName() + " has no code.");
        ConnectionClient.Tokens t;
        try {
            t = clients.get(name).exchange(code, s.verifier());
        } catch (ConnectionClient.Failure f) {
            LOG.warn("Connecting {} for {} failed at the code exchange: {}", name, userId, f.getMessage());
            throw switch (f.kind) {
                case INVALID_GRANT -> new FlowError(400, "The answer from " + p.displayName() + " expired or was already used. Start again from your account page.");
                case REFUSED -> new FlowError(502, p.displayName() + " refused this server's request (" + (f.code == null ? "rejected" : f.code)
                        + "). Nothing was connected.");
                default -> new FlowError(503, p.displayName() + " did not answer in time. Nothing was connected; try again shortly.");
            };
        }
        String account = account(p, t);
        ConnectionRecord old = store.get(userId, name);
        ConnectionRecord r = new ConnectionRecord(userId, name, cipher.keyId(), encrypt(userId, name, "access", t.accessToken()),
                encrypt(userId, name, "refresh", t.refreshToken()), expiry(t, now), scopes(p, t, null), account, ConnectionRecord.CONNECTED, now,
                null, null, null, null, old == null ? 1 : old.revision() + 1);
        store.put(r);
        LOG.info("{} connected {}{}", userId, name, account == null ? "" : " as " + account);
        tell(userId, name);
        return name;
    }

    /**
     * Who the tokens belong to at the provider: a naming claim (the configured one, else e-mail, preferred_username,
     * login, name) of the id_token, else of the userinfo answer; the subject when neither names the account.
     */
    private String account(ConnectionProvider p, ConnectionClient.Tokens t) {
        JsonNode id = t.idToken() == null ? null : jwtPayload(t.idToken());
        String named = id == null ? null : pick(id, p.accountClaim());
        if (named != null) return named;
        JsonNode info = p.userinfoEndpoint() == null ? null : userinfo(p, t.accessToken());
        named = info == null ? null : pick(info, p.accountClaim());
        if (named != null) return named;
        JsonNode sub = info != null && info.hasNonNull("sub") ? info.get("sub") : id != null ? id.get("sub") : null;
        return sub == null || !(sub.isTextual() || sub.isNumber()) ? null : sub.asText();
    }

    private static String pick(JsonNode n, String preferred) {
        List<String> order = new ArrayList<>();
        if (preferred != null) order.add(preferred);
        order.addAll(List.of("email", "preferred_username", "login", "name"));
        for (String c : order) {
            JsonNode v = n.get(c);
            if (v != null && (v.isTextual() || v.isNumber()) && !v.asText().isBlank() && v.asText().length() <= 320) return v.asText();
        }
        return null;
    }

    /** The id_token's claims, for display only (it came straight from the token endpoint over our own request). */
    private static JsonNode jwtPayload(String jwt) {
        String[] parts = jwt.split("\\.");
        if (parts.length < 2) return null;
        try {
            return Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    private JsonNode userinfo(ConnectionProvider p, String accessToken) {
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(p.userinfoEndpoint())).timeout(timeout).GET()
                    .header("Accept", "application/json").header("User-Agent", "mcp-oauth-server").header("Authorization", "Bearer " + accessToken)
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            byte[] body;
            try (InputStream in = r.body()) {
                body = in.readNBytes(256 * 1024);
            }
            if (r.statusCode() != 200) return null;
            JsonNode n = Json.MAPPER.readTree(body);
            return n != null && n.isObject() ? n : null;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Stores the secret a user pasted for a {@code "type": "secret"} connection. */
    public void saveSecret(String userId, String name, String secret, Instant now) {
        ConnectionProvider p = providers.get(name);
        if (p == null) throw new FlowError(404, "There is no connection named '" + name + "' on this server.");
        if (p.oauth()) throw new FlowError(400, p.displayName() + " is connected through its own sign-in, not with a pasted secret.");
        String v = secret == null ? "" : secret.strip();
        if (v.isEmpty()) throw new FlowError(400, "Paste the secret to store.");
        if (v.length() > MAX_SECRET_LENGTH) throw new FlowError(400, "The secret is longer than " + MAX_SECRET_LENGTH + " characters.");
        ConnectionRecord old = store.get(userId, name);
        store.put(new ConnectionRecord(userId, name, cipher.keyId(), encrypt(userId, name, "access", v), null, null, List.of(), null,
                ConnectionRecord.CONNECTED, now, null, null, null, null, old == null ? 1 : old.revision() + 1));
        LOG.info("{} stored a secret for {}", userId, name);
        tell(userId, name);
    }

    private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void listen(Listener listener) {
        listeners.add(listener);
    }

    private void tell(String userId, String name) {
        for (Listener l : listeners) {
            try {
                l.connected(userId, name);
            } catch (RuntimeException e) {
                LOG.warn("A listener of new connections failed: {}", e.toString());
            }
        }
    }

    /** What a disconnect did. */
    public record Disconnected(boolean existed, boolean revoked) {}

    /**
     * Deletes the user's connection, then revokes its tokens at the provider (RFC 7009) when it has a revocation
     * endpoint (the refresh token first: that ends the grant at most providers). Our copy is gone whatever the provider says.
     */
    public Disconnected disconnect(String userId, String name) {
        ConnectionRecord r = store.remove(userId, name);
        if (r == null) return new Disconnected(false, false);
        ConnectionProvider p = providers.get(name);
        if (p != null && providers.mcpServerUrl(name) != null) {
            try {
                p = resolve(name);
            } catch (McpServerAuth.Failed e) {
                p = null; // cannot revoke now; our copy is gone anyway
            }
        }
        boolean revoked = false;
        if (p != null && p.oauth() && p.revocationEndpoint() != null) {
            ConnectionClient c = clients.get(name);
            try {
                String refresh = r.refreshCiphertext() == null ? null : new String(cipher.decrypt(r.refreshCiphertext(),
                        ConnectionRecord.associatedData(userId, name, "refresh")), StandardCharsets.UTF_8);
                String access = new String(cipher.decrypt(r.accessCiphertext(), ConnectionRecord.associatedData(userId, name, "access")),
                        StandardCharsets.UTF_8);
                boolean a = refresh != null && c.revoke(refresh, true);
                boolean b = c.revoke(access, false);
                revoked = a || b;
            } catch (TokenCipher.Unreadable e) {
                revoked = false;
            }
            if (!revoked) LOG.warn("{} disconnected {}; revoking at {} failed (our copy is deleted)", userId, name, p.displayName());
        }
        LOG.info("{} disconnected {}{}", userId, name, revoked ? " (revoked at the provider)" : "");
        return new Disconnected(true, revoked);
    }

    // ---- status ----

    /** One connection as the account page, the API and the status tool show it. */
    public record View(String name, String displayName, String type, String status, String account, List<String> scopes, Instant expiresAt,
                       Instant connectedAt, Instant refreshedAt, Instant lastUsedAt, String connectUrl) {
        public static final String NOT_CONNECTED = "not_connected";
    }

    /** Every configured connection of {@code userId}, connected or not, sorted by name. */
    public List<View> views(String userId) {
        Map<String, ConnectionRecord> mine = new LinkedHashMap<>();
        for (ConnectionRecord r : store.listByUser(userId)) mine.put(r.name(), r);
        List<View> out = new ArrayList<>();
        for (ConnectionProvider p : providers.all()) {
            ConnectionRecord r = mine.get(p.name());
            String url = p.oauth() ? connectUrl(p.name()) : null;
            if (r == null) {
                out.add(new View(p.name(), p.displayName(), p.type(), View.NOT_CONNECTED, null, List.of(), null, null, null, null, url));
            } else {
                out.add(new View(p.name(), p.displayName(), p.type(), r.status(), r.account(), r.scopes(), r.expiresAt(), r.createdAt(), r.refreshedAt(),
                        r.lastUsedAt(), url));
            }
        }
        return out;
    }

    /** Drops expired connect states (they share the store of sign-in states; with upstream sign-in its sweep does this too). */
    public int sweep(Instant now) {
        return states.sweep(now);
    }
}
