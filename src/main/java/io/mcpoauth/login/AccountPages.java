package io.mcpoauth.login;

import static io.mcpoauth.http.Html.escape;

import io.mcpoauth.http.Html;
import io.mcpoauth.idp.IdpTokenService;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The account pages as pure functions returning complete HTML; every dynamic value is escaped. */
public final class AccountPages {
    private AccountPages() {}

    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** One client the user authorized. */
    public record ClientView(String clientId, String clientName, List<String> scopes, Instant grantedAt, int activeGrants, Instant lastUsedAt) {}

    /** The signed-in user. */
    public record UserView(String userId, String provider, String username, String name, String email, Boolean emailVerified, Instant createdAt) {}

    /** The upstream connection; null on a server with local sign-in. */
    public record UpstreamView(String providerName, String state, Instant expiresAt, List<String> scopes, boolean refreshable, Instant obtainedAt) {}

    /** The sign-in page: a password form (local) or one button that goes to the provider. */
    public static String signIn(String csrf, String providerNameOrNull, String errorOrNull, String usernameOrNull) {
        return signIn(csrf, providerNameOrNull, errorOrNull, usernameOrNull, null);
    }

    /** @param nextOrNull where to go after a password sign-in (a checked path of this server) */
    public static String signIn(String csrf, String providerNameOrNull, String errorOrNull, String usernameOrNull, String nextOrNull) {
        StringBuilder b = new StringBuilder(2048);
        b.append("<h1>Your account</h1>\n");
        if (errorOrNull != null) b.append("<p class=\"error\" role=\"alert\">").append(escape(errorOrNull)).append("</p>\n");
        b.append("<form method=\"post\" action=\"").append(AccountEndpoints.SIGNIN_PATH).append("\">\n");
        b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
        if (nextOrNull != null) b.append("<input type=\"hidden\" name=\"next\" value=\"").append(escape(nextOrNull)).append("\">\n");
        if (providerNameOrNull != null) {
            b.append("<p>Sign in with <strong>").append(escape(providerNameOrNull))
                    .append("</strong> to see your connected applications.</p>\n");
            b.append("<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in with ").append(escape(providerNameOrNull))
                    .append("</button></div>\n");
        } else {
            b.append("<p>Sign in to see your connected applications.</p>\n");
            b.append("<label for=\"username\">Username</label>\n");
            b.append("<input type=\"text\" id=\"username\" name=\"username\" value=\"").append(escape(usernameOrNull))
                    .append("\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"200\" required>\n");
            b.append("<label for=\"password\">Password</label>\n");
            b.append("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" maxlength=\"1024\" required>\n");
            b.append("<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div>\n");
        }
        b.append("</form>");
        return Html.page("Your account", b.toString());
    }

    /** Who you are, the clients you authorized (each with Revoke), the upstream connection, Sign out. */
    public static String account(String csrf, UserView user, List<ClientView> clients, UpstreamView upstream) {
        return account(csrf, user, clients, upstream, "");
    }

    /** @param extraHtml more sections (already escaped HTML), shown before Sign out */
    public static String account(String csrf, UserView user, List<ClientView> clients, UpstreamView upstream, String extraHtml) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<h1>Your account</h1>\n");
        b.append("<p>Signed in as <strong>").append(escape(user.name() != null ? user.name() : user.username())).append("</strong>");
        if (user.email() != null) {
            b.append(" (").append(escape(user.email())).append(Boolean.TRUE.equals(user.emailVerified()) ? "" : ", not verified").append(")");
        }
        b.append(".</p>\n");
        b.append("<p class=\"muted\">Account id <code>").append(escape(user.userId())).append("</code>");
        if (user.createdAt() != null) b.append(", since ").append(escape(WHEN.format(user.createdAt())));
        b.append(".</p>\n");

        b.append("<h2>Applications you allowed</h2>\n");
        if (clients.isEmpty()) {
            b.append("<p class=\"muted\">None.</p>\n");
        } else {
            b.append("<ul>\n");
            for (ClientView c : clients) {
                b.append("<li><strong>").append(escape(c.clientName() == null || c.clientName().isBlank() ? "An unnamed application" : c.clientName()))
                        .append("</strong> <span class=\"muted\">(<code>").append(escape(c.clientId())).append("</code>)</span><br>\n");
                b.append("<span class=\"muted\">");
                if (!c.scopes().isEmpty()) b.append("Scopes: ").append(escape(String.join(" ", c.scopes()))).append(". ");
                if (c.grantedAt() != null) b.append("Allowed ").append(escape(WHEN.format(c.grantedAt()))).append(". ");
                b.append(c.activeGrants()).append(c.activeGrants() == 1 ? " active connection" : " active connections");
                if (c.lastUsedAt() != null) b.append(", last refreshed ").append(escape(WHEN.format(c.lastUsedAt())));
                b.append(".</span>\n");
                b.append("<form method=\"post\" action=\"").append(AccountEndpoints.REVOKE_PATH).append("\">\n");
                b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
                b.append("<input type=\"hidden\" name=\"client_id\" value=\"").append(escape(c.clientId())).append("\">\n");
                b.append("<button type=\"submit\">Revoke access</button>\n</form></li>\n");
            }
            b.append("</ul>\n");
        }

        if (upstream != null) {
            b.append("<h2>").append(escape(upstream.providerName())).append(" connection</h2>\n");
            switch (upstream.state()) {
                case IdpTokenService.Status.CONNECTED -> {
                    b.append("<p>Connected");
                    if (upstream.obtainedAt() != null) b.append(" since ").append(escape(WHEN.format(upstream.obtainedAt())));
                    b.append(".</p>\n<p class=\"muted\">");
                    if (upstream.expiresAt() != null) {
                        b.append("Access expires ").append(escape(WHEN.format(upstream.expiresAt())))
                                .append(upstream.refreshable() ? " and is renewed automatically. " : " and cannot be renewed. ");
                    }
                    if (!upstream.scopes().isEmpty()) b.append("Scopes: ").append(escape(String.join(" ", upstream.scopes()))).append(".");
                    b.append("</p>\n");
                    b.append("<form method=\"post\" action=\"").append(AccountEndpoints.DISCONNECT_PATH).append("\">\n");
                    b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
                    b.append("<button type=\"submit\">Disconnect ").append(escape(upstream.providerName())).append("</button>\n</form>\n");
                }
                default -> {
                    b.append("<p class=\"error\">")
                            .append(IdpTokenService.Status.NOT_CONNECTED.equals(upstream.state()) ? "Not connected." : "Re-authentication required.")
                            .append(" Tools that use your ").append(escape(upstream.providerName())).append(" account will not work until you sign in again.</p>\n");
                    b.append("<form method=\"post\" action=\"").append(AccountEndpoints.SIGNIN_PATH).append("\">\n");
                    b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
                    b.append("<button type=\"submit\" class=\"primary\">Connect ").append(escape(upstream.providerName())).append("</button>\n</form>\n");
                }
            }
        }

        if (extraHtml != null) b.append(extraHtml);
        b.append("<form method=\"post\" action=\"").append(AccountEndpoints.SIGNOUT_PATH).append("\">\n");
        b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n");
        b.append("<div class=\"actions\"><button type=\"submit\">Sign out</button></div>\n</form>");
        return Html.page("Your account", b.toString());
    }
}
