package io.mcpoauth.connect;

import static io.mcpoauth.http.Html.escape;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.Challenge;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import io.mcpoauth.login.AccountEndpoints;
import io.mcpoauth.login.Pages;
import io.mcpoauth.store.StoreException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connect pages and API, thin over {@link Connections}: {@code GET /connect/NAME} (signed-in browser session;
 * otherwise sign in first and come back), {@code GET /connect/callback}, the account page's section with Connect,
 * Reconnect, Disconnect and the paste form of secrets (POST with the account page's CSRF token), and
 * {@code GET /api/me/connections} / {@code DELETE /api/me/connections/NAME} (a bearer token of ours, or the browser
 * session with {@code X-CSRF-Token} for DELETE). A user only ever sees and changes their own connections.
 */
public final class ConnectEndpoints {
    static final String CONNECT_FORM = "/account/connections/connect";
    static final String DISCONNECT_FORM = "/account/connections/disconnect";
    static final String SECRET_FORM = "/account/connections/secret";
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    private final Connections connections;
    private final AccountEndpoints account;
    private final BearerAuthenticator bearer;
    private final Clock clock;

    public ConnectEndpoints(Connections connections, AccountEndpoints account, BearerAuthenticator bearer, Clock clock) {
        this.connections = connections;
        this.account = account;
        this.bearer = bearer;
        this.clock = clock;
        account.section(this::section);
    }

    public void routes(JavalinConfig config) {
        config.routes.get(Connections.CALLBACK_PATH, this::callback);
        config.routes.get(Connections.CONNECT_PATH + "{name}", this::start);
        config.routes.get(Connections.CONNECT_PATH + "client-metadata/{file}", this::clientMetadata);
        config.routes.post(CONNECT_FORM, this::connectForm);
        config.routes.post(DISCONNECT_FORM, this::disconnectForm);
        config.routes.post(SECRET_FORM, this::secretForm);
        config.routes.get("/api/me/connections", this::apiList);
        config.routes.delete("/api/me/connections/{name}", this::apiDisconnect);
    }

    /** The Client ID Metadata Document of an {@code "mcp_server"} connection (its URL is our client id there). */
    private void clientMetadata(Context ctx) {
        String file = ctx.pathParam("file");
        String name = file.endsWith(".json") ? file.substring(0, file.length() - 5) : "";
        if (connections.providers().mcpServerUrl(name) == null) {
            Web.error(ctx, 404, "not_found", "There is no client metadata document here.");
            return;
        }
        Web.json(ctx, 200, McpServerAuth.clientMetadataDocument(connections.clientMetadataUrl(name), connections.callbackUrl()));
    }

    // ---- the flow ----

    private void start(Context ctx) {
        String name = ctx.pathParam("name");
        if (!ConnectionProviders.NAME.matcher(name).matches() || connections.providers().get(name) == null) {
            page(ctx, 404, "Unknown connection", "There is no connection named '" + name + "' on this server.");
            return;
        }
        String user = account.signedInUser(ctx);
        if (user == null) {
            redirect(ctx, AccountEndpoints.PATH + "?next=" + Connections.CONNECT_PATH + name);
            return;
        }
        begin(ctx, name, user);
    }

    private void begin(Context ctx, String name, String user) {
        if (!connections.providers().get(name).oauth()) {
            redirect(ctx, AccountEndpoints.PATH + "#connection-" + name);
            return;
        }
        try {
            redirect(ctx, connections.begin(name, user, account.sessionId(ctx), clock.instant()));
        } catch (Connections.FlowError e) {
            page(ctx, e.status, "Cannot connect", e.getMessage());
        }
    }

    private void callback(Context ctx) {
        Params q = Params.of(ctx.queryParamMap());
        try {
            connections.finish(q, account.sessionId(ctx), account.signedInUser(ctx), clock.instant());
        } catch (Connections.FlowError e) {
            page(ctx, e.status, "Not connected", e.getMessage());
            return;
        } catch (StoreException e) {
            ctx.header("Retry-After", "2");
            page(ctx, 503, "Not connected", "The server could not save your connection. Try again shortly.");
            return;
        }
        redirect(ctx, AccountEndpoints.PATH);
    }

    private void connectForm(Context ctx) {
        Params form = Web.pageForm(ctx);
        String user = account.signedInUser(ctx);
        String name = form.first("name");
        if (user == null || !account.csrfOk(ctx, form.first("csrf")) || name == null || connections.providers().get(name) == null) {
            AccountEndpoints.refuseForm(ctx);
            return;
        }
        begin(ctx, name, user);
    }

    private void disconnectForm(Context ctx) {
        Params form = Web.pageForm(ctx);
        String user = account.signedInUser(ctx);
        String name = form.first("name");
        if (user == null || !account.csrfOk(ctx, form.first("csrf")) || name == null) {
            AccountEndpoints.refuseForm(ctx);
            return;
        }
        connections.disconnect(user, name);
        redirect(ctx, AccountEndpoints.PATH);
    }

    private void secretForm(Context ctx) {
        Params form = Web.pageForm(ctx);
        String user = account.signedInUser(ctx);
        String name = form.first("name");
        if (user == null || !account.csrfOk(ctx, form.first("csrf")) || name == null) {
            AccountEndpoints.refuseForm(ctx);
            return;
        }
        try {
            connections.saveSecret(user, name, form.first("secret"), clock.instant());
        } catch (Connections.FlowError e) {
            page(ctx, e.status, "Not saved", e.getMessage());
            return;
        }
        redirect(ctx, AccountEndpoints.PATH);
    }

    // ---- JSON ----

    /** The caller: a bearer token of ours when one is sent (it must be valid), else the browser session; null when answered. */
    private String caller(Context ctx, boolean writing) {
        String header = ctx.header("Authorization");
        if (header != null) {
            BearerToken t = BearerToken.parse(header);
            AuthContext a = t.present() && t.bearerScheme() ? bearer.authenticate(t.token()) : null;
            if (a == null) {
                Challenge.bearer().error("invalid_token").to(ctx);
                Web.error(ctx, 401, "invalid_token", "The bearer token is unknown, expired or revoked.");
                return null;
            }
            return a.userId();
        }
        if (writing) return account.apiWriterUser(ctx);
        String user = account.signedInUser(ctx);
        if (user == null) {
            Challenge.bearer().to(ctx);
            Web.error(ctx, 401, "login_required", "Send a bearer token, or sign in at " + AccountEndpoints.PATH + " first.");
        }
        return user;
    }

    private void apiList(Context ctx) {
        String user = caller(ctx, false);
        if (user == null) return;
        List<Map<String, Object>> out = new ArrayList<>();
        for (Connections.View v : connections.views(user)) out.add(json(v));
        Web.noStore(ctx);
        Web.json(ctx, 200, Map.of("connections", out));
    }

    /** A connection as JSON; absent values are left out. */
    public static Map<String, Object> json(Connections.View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        m.put("provider", v.displayName());
        m.put("type", v.type());
        m.put("status", v.status());
        put(m, "account", v.account());
        if (!v.scopes().isEmpty()) m.put("scopes", v.scopes());
        put(m, "expires_at", v.expiresAt());
        put(m, "connected_at", v.connectedAt());
        put(m, "refreshed_at", v.refreshedAt());
        put(m, "last_used_at", v.lastUsedAt());
        put(m, "connect_url", v.connectUrl());
        return m;
    }

    private static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) m.put(k, v.toString());
    }

    private void apiDisconnect(Context ctx) {
        String user = caller(ctx, true);
        if (user == null) return;
        String name = ctx.pathParam("name");
        if (!connections.disconnect(user, name).existed()) {
            Web.error(ctx, 404, "not_found", "You have no connection named '" + name + "'.");
            return;
        }
        ctx.status(204);
    }

    // ---- the account page's section ----

    private String section(String userId, String csrf) {
        List<Connections.View> views = connections.views(userId);
        if (views.isEmpty()) return "";
        StringBuilder b = new StringBuilder(2048);
        b.append("<h2>Connections</h2>\n<p class=\"muted\">Accounts of yours that tools may use on your behalf. Only you can use them.</p>\n<ul>\n");
        for (Connections.View v : views) {
            b.append("<li id=\"connection-").append(escape(v.name())).append("\" data-status=\"").append(escape(v.status())).append("\"><strong>")
                    .append(escape(v.displayName())).append("</strong> <span class=\"muted\">(<code>").append(escape(v.name())).append("</code>)</span>: ");
            switch (v.status()) {
                case "connected" -> b.append("connected");
                case "needs_reconnect" -> b.append("<span class=\"error\">needs reconnect</span>");
                default -> b.append("not connected");
            }
            if (v.account() != null) b.append(" as <strong>").append(escape(v.account())).append("</strong>");
            b.append("<br>\n<span class=\"muted\">");
            if (!v.scopes().isEmpty()) b.append("Scopes: ").append(escape(String.join(" ", v.scopes()))).append(". ");
            if (v.connectedAt() != null) b.append("Connected ").append(escape(WHEN.format(v.connectedAt()))).append(". ");
            if (v.expiresAt() != null) b.append("Access expires ").append(escape(WHEN.format(v.expiresAt()))).append(". ");
            if (v.refreshedAt() != null) b.append("Last refreshed ").append(escape(WHEN.format(v.refreshedAt()))).append(". ");
            if (v.lastUsedAt() != null) b.append("Last used ").append(escape(WHEN.format(v.lastUsedAt()))).append(".");
            b.append("</span>\n");
            boolean connected = !v.status().equals(Connections.View.NOT_CONNECTED);
            if (v.type().equals(ConnectionProvider.SECRET)) {
                ConnectionProvider p = connections.providers().get(v.name());
                b.append("<form method=\"post\" action=\"").append(SECRET_FORM).append("\">\n");
                hidden(b, csrf, v.name());
                b.append("<label for=\"secret-").append(escape(v.name())).append("\">")
                        .append(escape(p.description() != null ? p.description() : "Your secret for " + v.displayName())).append("</label>\n");
                b.append("<input type=\"password\" id=\"secret-").append(escape(v.name())).append("\" name=\"secret\" autocomplete=\"off\" maxlength=\"")
                        .append(Connections.MAX_SECRET_LENGTH).append("\" required>\n");
                b.append("<button type=\"submit\" class=\"primary\">").append(connected ? "Replace" : "Save").append("</button>\n</form>\n");
            } else {
                b.append("<form method=\"post\" action=\"").append(CONNECT_FORM).append("\">\n");
                hidden(b, csrf, v.name());
                b.append("<button type=\"submit\" class=\"primary\">").append(connected ? "Reconnect " : "Connect ").append(escape(v.displayName()))
                        .append("</button>\n</form>\n");
            }
            if (connected) {
                b.append("<form method=\"post\" action=\"").append(DISCONNECT_FORM).append("\">\n");
                hidden(b, csrf, v.name());
                b.append("<button type=\"submit\">Disconnect ").append(escape(v.displayName())).append("</button>\n</form>\n");
            }
            b.append("</li>\n");
        }
        b.append("</ul>\n");
        return b.toString();
    }

    private static void hidden(StringBuilder b, String csrf, String name) {
        b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
        b.append("<input type=\"hidden\" name=\"name\" value=\"").append(escape(name)).append("\">\n");
    }

    private static void redirect(Context ctx, String location) {
        Web.noStore(ctx);
        ctx.status(303).header("Location", location);
    }

    private static void page(Context ctx, int status, String title, String message) {
        Web.page(ctx, status, Pages.error(title, message));
    }

}
