package io.mcpoauth.login;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.HostPolicy;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import io.mcpoauth.idp.IdpSignIn;
import io.mcpoauth.idp.IdpTokenService;
import io.mcpoauth.oauth.Consents;
import io.mcpoauth.oauth.GrantLifecycle;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code /account} for the signed-in user (browser session): who you are, the clients you authorized (revoking one
 * ends its refresh-token families for you only, and forgets your consent), the upstream connection (status, expiry,
 * scopes, disconnect). The same rules as the consent page: security headers on every page, a CSRF token bound to
 * the browser session on every form, 303 after every POST, every value escaped. JSON equivalents under
 * {@code /api/me}: the same session cookie, and {@code X-CSRF-Token} (from {@code GET /api/me}) on every DELETE.
 */
public final class AccountEndpoints {
    public static final String PATH = "/account";
    static final String SIGNIN_PATH = "/account/signin";
    static final String SIGNOUT_PATH = "/account/signout";
    static final String REVOKE_PATH = "/account/clients/revoke";
    static final String DISCONNECT_PATH = "/account/upstream/disconnect";

    private final Settings settings;
    private final Clock clock;
    private final BrowserSessions sessions;
    private final UserStore users;
    private final Consents consents;
    private final GrantStore grants;
    private final GrantLifecycle lifecycle;
    private final ClientStore clients;
    private final PasswordSignIn signIns;
    private final IdpSignIn upstream;
    private final IdpTokenService upstreamTokens;
    private final byte[] csrfKey = Secrets.randomBytes(32);
    /** State-changing JSON requests come from our own pages only: no Origin, or PUBLIC_URL's. */
    private final HostPolicy origins;
    private final List<AccountSection> sections = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Where a sign-in on the account page may return to: a connect link of this server only. */
    static final java.util.regex.Pattern NEXT = java.util.regex.Pattern.compile("/connect/[a-z0-9-]{1,32}");

    /** {@code upstream} and {@code upstreamTokens} are null with local sign-in ({@code signIns} is used then). */
    public AccountEndpoints(Settings settings, Clock clock, BrowserSessions sessions, UserStore users, Consents consents, GrantStore grants,
                            GrantLifecycle lifecycle, ClientStore clients, PasswordSignIn signIns, IdpSignIn upstream, IdpTokenService upstreamTokens) {
        this.settings = settings;
        this.clock = clock;
        this.sessions = sessions;
        this.users = users;
        this.consents = consents;
        this.grants = grants;
        this.lifecycle = lifecycle;
        this.clients = clients;
        this.signIns = signIns;
        this.upstream = upstream;
        this.upstreamTokens = upstreamTokens;
        this.origins = new HostPolicy(settings.publicUrl, List.of());
    }

    /** Adds a section to the signed-in account page (before Sign out). */
    public AccountEndpoints section(AccountSection s) {
        sections.add(s);
        return this;
    }

    // ---- for modules above this one that add pages to the account (the same session, the same CSRF rules) ----

    /** The signed-in user of the request's browser session, or null. */
    public String signedInUser(Context ctx) {
        UserRecord u = userOf(session(ctx));
        return u == null ? null : u.userId();
    }

    /** The id of the request's live browser session, or null. */
    public String sessionId(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        return s == null ? null : s.id();
    }

    /** Whether {@code presented} is the CSRF token of the request's browser session. */
    public boolean csrfOk(Context ctx, String presented) {
        return csrfOk(session(ctx), presented);
    }

    /** The user of a state-changing JSON request (session, X-CSRF-Token, no foreign Origin); null when it was answered with an error. */
    public String apiWriterUser(Context ctx) {
        UserRecord u = apiWriter(ctx);
        return u == null ? null : u.userId();
    }

    /** The page that says a form does not belong to the browser session. */
    public static void refuseForm(Context ctx) {
        forbidden(ctx);
    }

    public void routes(JavalinConfig config) {
        config.routes.get(PATH, this::page);
        config.routes.post(SIGNIN_PATH, this::signIn);
        config.routes.post(SIGNOUT_PATH, this::signOut);
        config.routes.post(REVOKE_PATH, this::revokeForm);
        config.routes.post(DISCONNECT_PATH, this::disconnectForm);
        config.routes.get("/api/me", this::apiMe);
        config.routes.get("/api/me/clients", this::apiClients);
        config.routes.delete("/api/me/clients/{clientId}", this::apiRevoke);
        config.routes.get("/api/me/upstream", this::apiUpstream);
        config.routes.delete("/api/me/upstream", this::apiDisconnect);
    }

    // ---- pages ----

    private void page(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        UserRecord u = userOf(s);
        if (u == null) {
            if (s == null) {
                s = sessions.create(clock.instant(), ctx.ip());
                if (s == null) {
                    Web.page(ctx, 503, Pages.error("Server busy", "Too many sign-ins right now. Try again in a minute."));
                    return;
                }
                ctx.res().addHeader("Set-Cookie", sessions.setCookie(s));
            }
            String next = ctx.queryParam("next");
            Web.page(ctx, 200, AccountPages.signIn(csrf(s), upstream == null ? null : upstream.displayName(), null, null,
                    next != null && NEXT.matcher(next).matches() ? next : null));
            return;
        }
        StringBuilder extra = new StringBuilder();
        for (AccountSection sec : sections) extra.append(sec.html(u.userId(), csrf(s)));
        Web.page(ctx, 200, AccountPages.account(csrf(s), userView(u), clientViews(u.userId()), upstreamView(u.userId()), extra.toString()));
    }

    private void signIn(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        Params form = form(ctx);
        if (!csrfOk(s, form.first("csrf"))) {
            forbidden(ctx);
            return;
        }
        Instant now = clock.instant();
        if (upstream != null) {
            // The account page signs in (or reconnects) upstream; no client is involved, so no consent is needed.
            redirect(ctx, upstream.begin(null, s.id(), now));
            return;
        }
        String username = form.first("username");
        String password = form.first("password");
        if (username == null || password == null) {
            Web.page(ctx, 400, AccountPages.signIn(csrf(s), null, "Enter your user name and password.", username));
            return;
        }
        PasswordSignIn.Outcome outcome = signIns.signIn(username, password.toCharArray(), ctx.ip(), null);
        if (outcome instanceof PasswordSignIn.Limited l) {
            ctx.header("Retry-After", String.valueOf(l.retryAfterSeconds()));
            Web.page(ctx, 429, AccountPages.signIn(csrf(s), null, "Too many sign-in attempts. Try again later.", username));
            return;
        }
        if (outcome instanceof PasswordSignIn.Busy b) {
            ctx.header("Retry-After", String.valueOf(b.retryAfterSeconds()));
            Web.page(ctx, 503, AccountPages.signIn(csrf(s), null, "The server is checking too many passwords right now. Try again in a few seconds.",
                    username));
            return;
        }
        if (!(outcome instanceof PasswordSignIn.Ok ok)) {
            Web.page(ctx, 401, AccountPages.signIn(csrf(s), null, "The user name or password is wrong.", username));
            return;
        }
        UserRecord u = ok.user();
        BrowserSessions.Session fresh = sessions.signIn(s, u.userId(), now);
        if (fresh == null) {
            Web.page(ctx, 503, Pages.error("Server busy", "Too many sign-ins right now. Try again in a minute."));
            return;
        }
        ctx.res().addHeader("Set-Cookie", sessions.setCookie(fresh));
        String next = form.first("next");
        redirect(ctx, next != null && NEXT.matcher(next).matches() ? next : PATH);
    }

    private void signOut(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        if (!csrfOk(s, form(ctx).first("csrf"))) {
            forbidden(ctx);
            return;
        }
        sessions.end(s);
        ctx.res().addHeader("Set-Cookie", sessions.cookieName() + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (settings.httpsPublicUrl() ? "; Secure" : ""));
        redirect(ctx, PATH);
    }

    private void revokeForm(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        Params form = form(ctx);
        UserRecord u = userOf(s);
        if (u == null || !csrfOk(s, form.first("csrf"))) {
            forbidden(ctx);
            return;
        }
        String clientId = form.first("client_id");
        if (clientId != null) revoke(u.userId(), clientId);
        redirect(ctx, PATH);
    }

    private void disconnectForm(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        UserRecord u = userOf(s);
        if (u == null || !csrfOk(s, form(ctx).first("csrf"))) {
            forbidden(ctx);
            return;
        }
        if (upstreamTokens != null) upstreamTokens.disconnect(u.userId());
        redirect(ctx, PATH);
    }

    // ---- JSON ----

    private void apiMe(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        UserRecord u = userOf(s);
        if (u == null) {
            loginRequired(ctx);
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("user_id", u.userId());
        out.put("provider", u.provider());
        out.put("username", u.username());
        out.put("name", u.name());
        out.put("email", u.email());
        out.put("email_verified", u.email() == null ? null : Boolean.TRUE.equals(u.emailVerified()));
        out.put("created_at", u.createdAt());
        out.put("csrf_token", csrf(s));
        json(ctx, 200, out);
    }

    private void apiClients(Context ctx) {
        UserRecord u = userOf(session(ctx));
        if (u == null) {
            loginRequired(ctx);
            return;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (AccountPages.ClientView c : clientViews(u.userId())) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("client_id", c.clientId());
            m.put("client_name", c.clientName());
            m.put("scopes", c.scopes());
            m.put("granted_at", c.grantedAt());
            m.put("active_grants", c.activeGrants());
            m.put("last_used_at", c.lastUsedAt());
            out.add(m);
        }
        json(ctx, 200, Map.of("clients", out));
    }

    private void apiRevoke(Context ctx) {
        UserRecord u = apiWriter(ctx);
        if (u == null) return;
        int n = revoke(u.userId(), ctx.pathParam("clientId"));
        if (n < 0) {
            Web.error(ctx, 404, "not_found", "You have not authorized this client.");
            return;
        }
        ctx.status(204);
    }

    private void apiUpstream(Context ctx) {
        UserRecord u = userOf(session(ctx));
        if (u == null) {
            loginRequired(ctx);
            return;
        }
        if (upstreamTokens == null) {
            Web.error(ctx, 404, "not_found", "This server signs users in locally: there is no upstream connection.");
            return;
        }
        IdpTokenService.Status st = upstreamTokens.status(u.userId());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("provider", st.provider());
        out.put("status", st.state());
        out.put("expires_at", st.expiresAt());
        out.put("scopes", st.scopes());
        out.put("refreshable", st.refreshable());
        out.put("connected_at", st.obtainedAt());
        out.put("refreshed_at", st.refreshedAt());
        json(ctx, 200, out);
    }

    private void apiDisconnect(Context ctx) {
        UserRecord u = apiWriter(ctx);
        if (u == null) return;
        if (upstreamTokens == null || !upstreamTokens.disconnect(u.userId())) {
            Web.error(ctx, 404, "not_found", "No upstream account is connected.");
            return;
        }
        ctx.status(204);
    }

    /** The signed-in user of a state-changing JSON request with a valid X-CSRF-Token and no foreign Origin, or null (answered). */
    private UserRecord apiWriter(Context ctx) {
        BrowserSessions.Session s = session(ctx);
        UserRecord u = userOf(s);
        if (u == null) {
            loginRequired(ctx);
            return null;
        }
        if (!csrfOk(s, ctx.header("X-CSRF-Token")) || !origins.allowsOriginOf(ctx.req())) {
            Web.error(ctx, 403, "forbidden", "Send the csrf_token from GET /api/me in the X-CSRF-Token header.");
            return null;
        }
        return u;
    }

    // ---- the work ----

    /** Ends every refresh-token family of this user for this client and forgets the consent; -1 when there was none. */
    private int revoke(String userId, String clientId) {
        boolean consent = consents.ofUser(userId).stream().anyMatch(c -> c.clientId().equals(clientId));
        int n = lifecycle.revokeApplication(userId, clientId, "user");
        return n == 0 && !consent ? -1 : n;
    }

    private List<AccountPages.ClientView> clientViews(String userId) {
        Map<String, ConsentRecord> byClient = new TreeMap<>();
        for (ConsentRecord c : consents.ofUser(userId)) byClient.put(c.clientId(), c);
        Map<String, int[]> counts = new TreeMap<>();
        Map<String, Instant> lastUsed = new TreeMap<>();
        Instant now = clock.instant();
        for (RefreshFamily f : grants.listByUser(userId)) {
            if (f.expired(now)) continue;
            counts.computeIfAbsent(f.clientId(), k -> new int[1])[0]++;
            lastUsed.merge(f.clientId(), f.rotatedAt(), (a, b) -> a.isAfter(b) ? a : b);
        }
        java.util.Set<String> ids = new java.util.TreeSet<>(byClient.keySet());
        ids.addAll(counts.keySet());
        List<AccountPages.ClientView> out = new ArrayList<>();
        for (String id : ids) {
            ConsentRecord c = byClient.get(id);
            ClientRecord cr = clients.get(id);
            out.add(new AccountPages.ClientView(id, cr == null ? null : cr.clientName(), c == null ? List.of() : c.scopes(),
                    c == null ? null : c.grantedAt(), counts.containsKey(id) ? counts.get(id)[0] : 0, lastUsed.get(id)));
        }
        out.sort(Comparator.comparing((AccountPages.ClientView v) -> v.grantedAt() == null ? Instant.EPOCH : v.grantedAt()).reversed());
        return out;
    }

    private AccountPages.UserView userView(UserRecord u) {
        return new AccountPages.UserView(u.userId(), u.provider(), u.username(), u.name(), u.email(), u.emailVerified(), u.createdAt());
    }

    private AccountPages.UpstreamView upstreamView(String userId) {
        if (upstreamTokens == null) return null;
        IdpTokenService.Status st = upstreamTokens.status(userId);
        return new AccountPages.UpstreamView(upstream.displayName(), st.state(), st.expiresAt(), st.scopes(), st.refreshable(), st.obtainedAt());
    }

    // ---- helpers ----

    private BrowserSessions.Session session(Context ctx) {
        return sessions.find(ctx.cookie(sessions.cookieName()), clock.instant());
    }

    private UserRecord userOf(BrowserSessions.Session s) {
        return s == null || s.userId() == null ? null : users.get(s.userId());
    }

    /** The CSRF token of a browser session: HMAC-SHA256 of its id under a per-process key. */
    private String csrf(BrowserSessions.Session s) {
        return io.mcpoauth.core.Hmac.base64(csrfKey, "account " + s.id());
    }

    private boolean csrfOk(BrowserSessions.Session s, String presented) {
        return s != null && presented != null && Secrets.constantTimeEquals(csrf(s), presented);
    }

    private static Params form(Context ctx) {
        return Web.pageForm(ctx);
    }

    private static void redirect(Context ctx, String location) {
        Web.noStore(ctx);
        ctx.status(303).header("Location", location);
    }

    private static void forbidden(Context ctx) {
        Web.page(ctx, 403, Pages.error("Request refused", "This form does not belong to your browser session. Open your account page again."));
    }

    private static void loginRequired(Context ctx) {
        Web.error(ctx, 401, "login_required", "Sign in at " + PATH + " first.");
    }

    private static void json(Context ctx, int status, Object body) {
        Web.noStore(ctx);
        Web.json(ctx, status, body);
    }
}
