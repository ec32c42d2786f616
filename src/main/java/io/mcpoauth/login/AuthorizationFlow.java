package io.mcpoauth.login;

import io.mcpoauth.config.Settings;
import io.mcpoauth.core.AddressKey;
import io.mcpoauth.core.Events;
import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.idp.IdpConfig;
import io.mcpoauth.idp.IdpSignIn;
import io.mcpoauth.oauth.AuthorizationCodes;
import io.mcpoauth.oauth.AuthorizationRequest;
import io.mcpoauth.oauth.AuthorizeRejection;
import io.mcpoauth.oauth.AuthorizeRequests;
import io.mcpoauth.oauth.Consents;
import io.mcpoauth.oauth.RedirectUris;
import io.mcpoauth.store.PendingRecord;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The browser side of {@code /authorize}, as plain Java: validate the request, sign the user in, ask for (or recall)
 * consent, then send the browser back to the client with a code. Each pending authorization is single-use, expires
 * after 10 minutes and is bound to the browser session and a CSRF token.
 *
 * <p>Pending authorizations are capped: one browser holds at most {@link #PENDING_PER_BROWSER} and, before sign-in,
 * one address at most {@link #PENDING_PER_ADDRESS} (IPv6 by /64); past a cap the holder's oldest one goes. When
 * the store is full the oldest anonymous ones (not yet signed in) make room; a signed-in user's are never evicted for
 * strangers' requests.
 */
public final class AuthorizationFlow {
    public static final Duration PENDING_TTL = Duration.ofMinutes(10);
    public static final int PENDING_PER_BROWSER = 20;
    public static final int PENDING_PER_ADDRESS = 100;
    static final String LOGIN_PATH = "/login";
    static final String CONSENT_PATH = "/consent";
    public static final String CALLBACK_PATH = IdpConfig.CALLBACK_PATH;

    /**
     * A pending authorization under its id: the stored record (the validated request as plain data, its browser
     * ({@link BrowserSessions.Session#browserId}, which survives the session id rotation at sign-in, so two tabs work
     * independently), CSRF token and, once known, the user).
     */
    record Pending(String id, PendingRecord record) {
        static Pending of(String id, AuthorizationRequest req, String browserId, String csrf, String userId, Instant expiresAt) {
            return new Pending(id, new PendingRecord(req.client(), req.redirectUri(), req.redirectUriGiven(), req.state(), req.codeChallenge(),
                    req.scopes(), req.resource(), browserId, csrf, userId, expiresAt));
        }

        /** The request, rebuilt from the record. */
        AuthorizationRequest request() {
            PendingRecord r = record;
            return new AuthorizationRequest(r.client(), r.redirectUri(), r.redirectUriGiven(), r.state(), r.codeChallenge(), r.scopes(), r.resource());
        }

        String browserId() {
            return record.browserId();
        }

        String csrf() {
            return record.csrf();
        }

        String userId() {
            return record.userId();
        }

        Instant expiresAt() {
            return record.expiresAt();
        }

        Pending with(String newBrowserId, String newUserId) {
            return new Pending(id, record.with(newBrowserId, newUserId));
        }
    }

    /** The next step, and the session whose cookie must be set (null when unchanged). */
    public record Result(Step step, BrowserSessions.Session setSession) {}

    private final Settings settings;
    private final Clock clock;
    private final AuthorizeRequests requests;
    private final AuthorizationCodes codes;
    private final Consents consents;
    private final UserStore users;
    private final PasswordSignIn signIns;
    private final BrowserSessions sessions;
    private final IdpSignIn upstream;
    private final ShortLivedStore<PendingRecord> pending;
    private volatile Events events = Events.NONE;

    /** @param pending where pending authorizations are kept (shared by every instance with a shared store) */
    public AuthorizationFlow(Settings settings, Clock clock, AuthorizeRequests requests, AuthorizationCodes codes, Consents consents,
                             UserStore users, PasswordSignIn signIns, BrowserSessions sessions, IdpSignIn upstream,
                             ShortLivedStore<PendingRecord> pending) {
        this.settings = settings;
        this.clock = clock;
        this.requests = requests;
        this.codes = codes;
        this.consents = consents;
        this.users = users;
        this.signIns = signIns;
        this.sessions = sessions;
        this.upstream = upstream;
        this.pending = pending;
    }

    /** How a pending authorization is kept: capped per browser, and before sign-in per address and evictable. */
    private static ExpiringMap.Policy policy(Pending p, String address) {
        ExpiringMap.Owner browser = new ExpiringMap.Owner("b " + p.browserId(), PENDING_PER_BROWSER);
        if (p.userId() != null) return ExpiringMap.Policy.keep(browser);
        if (address == null) return ExpiringMap.Policy.evictable(browser);
        return ExpiringMap.Policy.evictable(browser, new ExpiringMap.Owner("a " + AddressKey.of(address), PENDING_PER_ADDRESS));
    }

    private boolean hold(Pending p, String address, Instant now) {
        return pending.put(p.id(), p.record(), p.expiresAt(), now, policy(p, address));
    }

    /** The live pending authorization {@code id}, or null. */
    private Pending find(String id, Instant now) {
        PendingRecord r = id == null ? null : pending.get(id, now);
        return r == null ? null : new Pending(id, r);
    }

    /** Takes the live pending authorization {@code id}: of racing callers exactly one gets it. */
    private Pending takePending(String id, Instant now) {
        PendingRecord r = id == null ? null : pending.take(id, now);
        return r == null ? null : new Pending(id, r);
    }

    /** How many pending authorizations are held. */
    public int pendingCount() {
        return pending.count();
    }

    /** GET /authorize from the client {@code address}. */
    public Result authorize(Params query, BrowserSessions.Session session, String address) {
        Instant now = clock.instant();
        AuthorizationRequest req;
        try {
            req = requests.parse(query);
        } catch (AuthorizeRejection r) {
            if (r.redirectUri() == null) return new Result(errorPage(400, "This sign-in link is not valid", r.error().description()), null);
            return new Result(new Step.Redirect(302, AuthorizeRequests.errorRedirect(r, settings.issuer)), null);
        }
        BrowserSessions.Session s = session != null ? session : sessions.create(now, address);
        if (s == null) return new Result(busy(), null);
        String userId = s.userId() != null && users.get(s.userId()) != null ? s.userId() : null;
        Pending p = Pending.of(Secrets.randomString(24), req, s.browserId(), Secrets.randomString(32), userId, now.plus(PENDING_TTL));
        if (!hold(p, address, now)) return new Result(busy(), null);
        BrowserSessions.Session set = session == null ? s : null;
        if (userId != null) return new Result(afterSignIn(p, 302, now), set);
        if (upstream != null) return new Result(consentForm(p, null), set);
        return new Result(loginPage(p, 200, null, null), set);
    }

    /** Where sign-ins, consents and approvals are reported (audit log and metrics). */
    public AuthorizationFlow events(Events events) {
        this.events = events == null ? Events.NONE : events;
        return this;
    }

    /** POST /login. */
    public Result login(Params form, BrowserSessions.Session session, String address) {
        Instant now = clock.instant();
        Pending p = find(form.first("txn"), now);
        if (p == null) return new Result(expired(), null);
        if (!csrfOk(p, form.first("csrf"), session) || upstream != null) return new Result(forbidden(), null);
        String username = form.first("username");
        String password = form.first("password");
        if (username == null || password == null) {
            return new Result(loginPage(p, 400, "Enter your user name and password.", username), null);
        }
        PasswordSignIn.Outcome outcome = signIns.signIn(username, password.toCharArray(), address, p.request().client().clientId());
        if (outcome instanceof PasswordSignIn.Limited l) {
            return new Result(new Step.Refused(429, loginPage(p, 429, "Too many sign-in attempts. Wait " + minutes(l.retryAfterSeconds())
                    + " and try again.", username).html(), l.retryAfterSeconds()), null);
        }
        if (outcome instanceof PasswordSignIn.Busy b) {
            return new Result(new Step.Refused(503, loginPage(p, 503, "The server is checking too many passwords right now."
                    + " Try again in a few seconds.", username).html(), b.retryAfterSeconds()), null);
        }
        if (!(outcome instanceof PasswordSignIn.Ok ok)) {
            return new Result(loginPage(p, 401, "The user name or password is wrong.", username), null);
        }
        UserRecord user = ok.user();
        BrowserSessions.Session fresh = sessions.signIn(session, user.userId(), now);
        if (fresh == null) return new Result(busy(), null);
        Pending signedIn = p.with(fresh.browserId(), user.userId());
        hold(signedIn, address, now);
        AuthorizationRequest req = p.request();
        if (!consents.covers(user.userId(), req.client().clientId(), consentKeys(req))) {
            // Post/Redirect/Get: the consent page is the target of a 303, never the body of the password POST.
            return new Result(new Step.Redirect(303, CONSENT_PATH + "?txn=" + signedIn.id()), fresh);
        }
        return new Result(afterSignIn(signedIn, 303, now), fresh);
    }

    /** GET /consent (after a sign-in, as the target of the 303). */
    public Result consentPage(Params query, BrowserSessions.Session session) {
        Instant now = clock.instant();
        Pending p = find(query.first("txn"), now);
        if (p == null) return new Result(expired(), null);
        if (session == null || !p.browserId().equals(session.browserId()) || p.userId() == null) return new Result(forbidden(), null);
        return new Result(afterSignIn(p, 302, now), null);
    }

    /** POST /consent: single-use; allow issues a code, deny returns access_denied to the client. */
    public Result decide(Params form, BrowserSessions.Session session) {
        Instant now = clock.instant();
        String txn = form.first("txn");
        Pending p = find(txn, now);
        if (p == null) return new Result(expired(), null);
        if (!csrfOk(p, form.first("csrf"), session) || p.userId() == null && upstream == null) return new Result(forbidden(), null);
        String decision = form.first("decision");
        if (!"allow".equals(decision) && !"deny".equals(decision)) {
            return new Result(errorPage(400, "No decision", "Choose Allow or Deny."), null);
        }
        if (takePending(txn, now) == null) return new Result(expired(), null);
        AuthorizationRequest req = p.request();
        events.consent(p.userId(), req.client().clientId(), decision.equals("allow"), req.scopes());
        if (decision.equals("deny")) {
            return new Result(new Step.Redirect(303, clientError(req, OAuthError.ACCESS_DENIED, "The user denied access.")), null);
        }
        if (p.userId() == null) {
            // Upstream sign-in comes after our consent; the pending authorization waits for the callback under a new id,
            // so this consent form cannot be submitted a second time.
            Pending consented = new Pending(Secrets.randomString(24), p.record());
            hold(consented, null, now);
            return new Result(new Step.Redirect(303, upstream.begin(consented.id(), session.id(), now)), null);
        }
        consents.grant(p.userId(), req.client().clientId(), consentKeys(req), now);
        return new Result(complete(p, 303, now), null);
    }

    /** GET /oauth/callback: the upstream provider sends the browser back; finish sign-in and return to the client. */
    public Result upstreamCallback(Params query, BrowserSessions.Session session) {
        Instant now = clock.instant();
        if (upstream == null || session == null) {
            return new Result(errorPage(400, "Sign-in not recognised", "This sign-in did not start in this browser. Go back to the application and connect again."), null);
        }
        IdpSignIn.Completed done;
        try {
            done = upstream.finish(query, session.id(), now);
        } catch (IdpSignIn.Failure f) {
            Pending p = takePending(f.pendingId, now);
            events.signIn(null, p == null ? null : p.request().client().clientId(), false, "upstream_error");
            if (p != null && f.oauthError != null) {
                return new Result(new Step.Redirect(302, clientError(p.request(), f.oauthError, f.getMessage())), null);
            }
            return new Result(errorPage(f.status, "Sign-in failed", f.getMessage()), null);
        }
        Pending waiting = find(done.pendingId(), now);
        events.signIn(done.user().userId(), waiting == null ? null : waiting.request().client().clientId(), true, null);
        if (done.pendingId() == null) {
            // A sign-in started from the account page: no client waits for a code.
            BrowserSessions.Session fresh = sessions.signIn(session, done.user().userId(), now);
            if (fresh == null) return new Result(busy(), null);
            LastLogin.touch(users, done.user().userId(), now);
            return new Result(new Step.Redirect(302, AccountEndpoints.PATH), fresh);
        }
        Pending p = takePending(done.pendingId(), now);
        if (p == null || !p.browserId().equals(session.browserId())) return new Result(expired(), null);
        BrowserSessions.Session fresh = sessions.signIn(session, done.user().userId(), now);
        if (fresh == null) return new Result(busy(), null);
        LastLogin.touch(users, done.user().userId(), now);
        consents.grant(done.user().userId(), p.request().client().clientId(), consentKeys(p.request()), now);
        return new Result(complete(p.with(fresh.browserId(), done.user().userId()), 302, now), fresh);
    }

    /** The upstream server a request is for ({@code /mcp/NAME}), or null for {@code /mcp}. */
    private String serverOf(AuthorizationRequest req) {
        for (String name : settings.mcpServers().servers().keySet()) {
            if (settings.mcpResource(name).equals(req.resource())) return name;
        }
        return null;
    }

    /**
     * What a consent covers: the scopes, plus {@code mcp-server:NAME} for a token of one upstream server, so that
     * approving one server never silently approves another for the same client.
     */
    private java.util.Set<String> consentKeys(AuthorizationRequest req) {
        String server = serverOf(req);
        if (server == null) return req.scopes();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(req.scopes());
        keys.add("mcp-server:" + server);
        return keys;
    }

    private String clientError(AuthorizationRequest req, String error, String description) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("error", error);
        params.put("error_description", description);
        params.put("state", req.state());
        params.put("iss", settings.issuer);
        return AuthorizeRequests.redirectWith(req.redirectUri(), params);
    }

    private Step afterSignIn(Pending p, int redirectStatus, Instant now) {
        AuthorizationRequest req = p.request();
        if (consents.covers(p.userId(), req.client().clientId(), consentKeys(req))) {
            pending.remove(p.id());
            return complete(p, redirectStatus, now);
        }
        UserRecord u = users.get(p.userId());
        return consentForm(p, u == null ? p.userId() : u.username());
    }

    /** The consent page; {@code username} null means the user signs in upstream after deciding. */
    private Step consentForm(Pending p, String username) {
        AuthorizationRequest req = p.request();
        String who = username != null ? username : "you (you will sign in with " + upstream.displayName() + " next)";
        String server = serverOf(req);
        List<String> servers = server != null ? List.of(server) : new ArrayList<>(settings.mcpServers().servers().keySet());
        String html = Pages.consent(CONSENT_PATH, p.csrf(), p.id(), req.client().clientName(), RedirectUris.displayHost(req.redirectUri()),
                new ArrayList<>(req.scopes()), who, server != null, servers);
        return new Step.Page(200, html);
    }

    private Step complete(Pending p, int status, Instant now) {
        AuthorizationRequest req = p.request();
        String code = codes.issue(req, p.userId(), now);
        if (code == null) return busy();
        events.authorizationApproved(p.userId(), req.client().clientId());
        Map<String, String> params = new LinkedHashMap<>();
        params.put("code", code);
        params.put("state", req.state());
        params.put("iss", settings.issuer);
        return new Step.Redirect(status, AuthorizeRequests.redirectWith(req.redirectUri(), params));
    }

    private Step.Page loginPage(Pending p, int status, String error, String username) {
        return new Step.Page(status, Pages.login(LOGIN_PATH, p.csrf(), p.id(), p.request().client().clientName(), error, username));
    }

    private static boolean csrfOk(Pending p, String csrf, BrowserSessions.Session session) {
        return csrf != null && session != null && p.browserId().equals(session.browserId())
                && MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8), p.csrf().getBytes(StandardCharsets.UTF_8));
    }

    private static Step errorPage(int status, String title, String message) {
        return new Step.Page(status, Pages.error(title, message));
    }

    private static Step expired() {
        return errorPage(400, "This page has expired", "The sign-in took too long or was already completed. Go back to the application and connect again.");
    }

    private static Step forbidden() {
        return errorPage(403, "Request refused", "This form does not belong to your browser session. Go back to the application and connect again.");
    }

    private static Step busy() {
        return errorPage(503, "Server busy", "The server is handling too many sign-ins right now. Try again in a minute.");
    }

    private static String minutes(long seconds) {
        long m = (seconds + 59) / 60;
        return m <= 1 ? "a minute" : m + " minutes";
    }

    public int sweep(Instant now) {
        return pending.sweep(now) + sessions.sweep(now);
    }
}
