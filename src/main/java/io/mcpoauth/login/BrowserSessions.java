package io.mcpoauth.login;

import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Secrets;
import java.time.Duration;
import java.time.Instant;

/**
 * Browser sessions for the sign-in and consent pages, in memory. The cookie is HttpOnly and SameSite=Lax, and on an
 * https PUBLIC_URL it is {@code __Host-} prefixed and Secure. Signing in always issues a new session id.
 */
public final class BrowserSessions {
    public static final Duration TTL = Duration.ofHours(12);

    /**
     * A browser session; {@code userId} is null until the user signs in. {@code browserId} names the browser: it is
     * kept when sign-in replaces the session id, so a form opened in another tab before the sign-in stays valid. It is
     * never sent to the browser (only {@code id} is, in the cookie).
     */
    public record Session(String id, String userId, Instant expiresAt, String browserId) {}

    private final ExpiringMap<Session> sessions;
    private final boolean secure;
    private final String cookieName;

    public BrowserSessions(boolean httpsPublicUrl, int max) {
        this.secure = httpsPublicUrl;
        this.cookieName = httpsPublicUrl ? "__Host-mcp_session" : "mcp_session";
        this.sessions = new ExpiringMap<>(max);
    }

    public String cookieName() {
        return cookieName;
    }

    /** The live session for a cookie value, or null. */
    public Session find(String cookieValue, Instant now) {
        if (cookieValue == null || cookieValue.isEmpty() || cookieValue.length() > 100) return null;
        return sessions.get(Secrets.hash(cookieValue), now);
    }

    /** A new anonymous session; null when memory is full. */
    public Session create(Instant now) {
        return store(new Session(Secrets.randomString(32), null, now.plus(TTL), Secrets.randomString(16)), now);
    }

    /**
     * Replaces {@code old} (if any) with a new session id bound to {@code userId}: no session fixation (the old id is
     * gone). The browser id carries over, so the browser's other open forms keep working.
     */
    public Session signIn(Session old, String userId, Instant now) {
        if (old != null) sessions.remove(Secrets.hash(old.id()));
        String browserId = old != null ? old.browserId() : Secrets.randomString(16);
        return store(new Session(Secrets.randomString(32), userId, now.plus(TTL), browserId), now);
    }

    public void end(Session s) {
        if (s != null) sessions.remove(Secrets.hash(s.id()));
    }

    /** Ends every session of {@code userId} except {@code keepSessionId} (null: all); returns how many ended. */
    public int endUser(String userId, String keepSessionId) {
        return sessions.removeIf(s -> userId.equals(s.userId()) && !s.id().equals(keepSessionId));
    }

    private Session store(Session s, Instant now) {
        return sessions.put(Secrets.hash(s.id()), s, s.expiresAt(), now) ? s : null;
    }

    public String setCookie(Session s) {
        return cookieName + "=" + s.id() + "; Path=/; Max-Age=" + TTL.toSeconds() + "; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
    }

    public int sweep(Instant now) {
        return sessions.sweep(now);
    }
}
