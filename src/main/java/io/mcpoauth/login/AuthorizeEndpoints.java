package io.mcpoauth.login;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.PageError;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import java.time.Clock;

/** The HTTP edge of the browser flow: {@code GET /authorize}, {@code POST /login}, {@code GET|POST /consent}. */
public final class AuthorizeEndpoints {
    private final AuthorizationFlow flow;
    private final BrowserSessions sessions;
    private final Clock clock;

    public AuthorizeEndpoints(AuthorizationFlow flow, BrowserSessions sessions, Clock clock) {
        this.flow = flow;
        this.sessions = sessions;
        this.clock = clock;
    }

    public void routes(JavalinConfig config) {
        config.routes.get("/authorize", ctx -> send(ctx, flow.authorize(query(ctx), session(ctx), ctx.ip())));
        config.routes.post(AuthorizationFlow.LOGIN_PATH, ctx -> send(ctx, flow.login(form(ctx), session(ctx), ctx.ip())));
        config.routes.get(AuthorizationFlow.CONSENT_PATH, ctx -> send(ctx, flow.consentPage(query(ctx), session(ctx))));
        config.routes.post(AuthorizationFlow.CONSENT_PATH, ctx -> send(ctx, flow.decide(form(ctx), session(ctx))));
        config.routes.get(AuthorizationFlow.CALLBACK_PATH, ctx -> send(ctx, flow.upstreamCallback(query(ctx), session(ctx))));
    }

    /** The query of a page GET; a malformed one (bad %-escape, too many parameters) is refused with a page, not JSON. */
    private static Params query(Context ctx) {
        try {
            return Params.parseUrlEncoded(ctx.queryString() == null ? "" : ctx.queryString());
        } catch (OAuthError e) {
            throw new PageError(400, "This link is not valid", e.description());
        }
    }

    /** The form of a page POST; a malformed, repeated or oversized field is refused with a page, not JSON. */
    private static Params form(Context ctx) {
        return Web.pageForm(ctx);
    }

    private BrowserSessions.Session session(Context ctx) {
        return sessions.find(ctx.cookie(sessions.cookieName()), clock.instant());
    }

    private void send(Context ctx, AuthorizationFlow.Result r) {
        if (r.setSession() != null) ctx.res().addHeader("Set-Cookie", sessions.setCookie(r.setSession()));
        if (r.step() instanceof Step.Page p) {
            Web.page(ctx, p.status(), p.html());
        } else if (r.step() instanceof Step.Refused rf) {
            ctx.header("Retry-After", String.valueOf(rf.retryAfterSeconds()));
            Web.page(ctx, rf.status(), rf.html());
        } else if (r.step() instanceof Step.Redirect rd) {
            Web.noStore(ctx);
            ctx.status(rd.status()).header("Location", rd.location());
        }
    }
}
