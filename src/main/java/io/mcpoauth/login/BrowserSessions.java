package io.mcpoauth.login;

import io.mcpoauth.core.AddressKey;
import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.store.SessionRecord;
import io.mcpoauth.store.ShortLivedStore;
import java.time.Duration;
import java.time.Instant;

/**
 * Browser sessions for the sign-in and consent pages, in the store's {@link ShortLivedStore} of sessions under the
 * SHA-256 of the session id (in memory with the file backend, shared by every instance with a database). The cookie
 * is HttpOnly and SameSite=Lax, and on an https PUBLIC_URL it is {@code __Host-} prefixed and Secure. Signing in
 * always issues a new session id.
 *
 * <p>An anonymous session (a browser that has not signed in) costs little and goes fast: it lives
 * {@link #ANONYMOUS_TTL}, one address holds at most {@link #ANONYMOUS_PER_ADDRESS} (IPv6 by /64; its oldest goes
 * first), and when the store is full the oldest anonymous sessions make room. A signed-in session lives {@link #TTL} and
 * is never evicted for strangers' requests.
 */
public final class BrowserSessions {
    public static final Duration TTL = Duration.ofHours(12);
    public static final Duration ANONYMOUS_TTL = Duration.ofMinutes(20);
    public static final int ANONYMOUS_PER_ADDRESS = 100;

    /**
     * A browser session; {@code userId} is null until the user signs in. {@code browserId} names the browser: it is
     * kept when sign-in replaces the session id, so a form opened in another tab before the sign-in stays valid. It is
     * never sent to the browser (only {@code id} is, in the cookie).
     */
    public record Session(String id, String userId, Instant expiresAt, String browserId) {}

    private final ShortLivedStore<SessionRecord> sessions;
    private final boolean secure;
    private final String cookieName;

    /** @param sessions where sessions are kept, by SHA-256 of their id (shared by every instance with a shared store) */
    public BrowserSessions(boolean httpsPublicUrl, ShortLivedStore<SessionRecord> sessions) {
        this.secure = httpsPublicUrl;
        this.cookieName = httpsPublicUrl ? "__Host-mcp_session" : "mcp_session";
        this.sessions = sessions;
    }

    public String cookieName() {
        return cookieName;
    }

    /** The live session for a cookie value, or null. */
    public Session find(String cookieValue, Instant now) {
        if (cookieValue == null || cookieValue.isEmpty() || cookieValue.length() > 100) return null;
        SessionRecord r = sessions.get(Secrets.hash(cookieValue), now);
        return r == null ? null : new Session(cookieValue, r.userId(), r.expiresAt(), r.browserId());
    }

    /** A new anonymous session for a browser at {@code address}; null when the store is full of signed-in sessions. */
    public Session create(Instant now, String address) {
        Session s = new Session(Secrets.randomString(32), null, now.plus(ANONYMOUS_TTL), Secrets.randomString(16));
        ExpiringMap.Policy policy = ExpiringMap.Policy.evictable(new ExpiringMap.Owner("a " + AddressKey.of(address), ANONYMOUS_PER_ADDRESS));
        return sessions.put(Secrets.hash(s.id()), record(s), s.expiresAt(), now, policy) ? s : null;
    }

    /**
     * Replaces {@code old} (if any) with a new session id bound to {@code userId}: no session fixation (the old id is
     * gone). The browser id carries over, so the browser's other open forms keep working.
     */
    public Session signIn(Session old, String userId, Instant now) {
        if (old != null) sessions.remove(Secrets.hash(old.id()));
        String browserId = old != null ? old.browserId() : Secrets.randomString(16);
        Session s = new Session(Secrets.randomString(32), userId, now.plus(TTL), browserId);
        return sessions.put(Secrets.hash(s.id()), record(s), s.expiresAt(), now) ? s : null;
    }

    private static SessionRecord record(Session s) {
        return new SessionRecord(s.userId(), s.browserId(), s.expiresAt());
    }

    public void end(Session s) {
        if (s != null) sessions.remove(Secrets.hash(s.id()));
    }

    /** Ends every session of {@code userId} except {@code keepSessionId} (null: all); returns how many ended. */
    public int endUser(String userId, String keepSessionId) {
        return sessions.removeByUser(userId, keepSessionId == null ? null : Secrets.hash(keepSessionId));
    }

    public String setCookie(Session s) {
        long maxAge = (s.userId() == null ? ANONYMOUS_TTL : TTL).toSeconds();
        return cookieName + "=" + s.id() + "; Path=/; Max-Age=" + maxAge + "; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
    }

    /** How many sessions are held (anonymous and signed in). */
    public int size() {
        return sessions.count();
    }

    public int sweep(Instant now) {
        return sessions.sweep(now);
    }
}
