package io.mcpoauth.login;

import static io.mcpoauth.http.Html.escape;

import io.mcpoauth.http.Html;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The login, consent and error pages as pure functions returning complete HTML. Every dynamic value is escaped;
 * {@code actionPath} must be a plain server path such as {@code /authorize/login} (it is never built from input).
 */
public final class Pages {
    private Pages() {}

    /** Short descriptions of known scopes, shown on the consent page. */
    public static final Map<String, String> SCOPE_DESCRIPTIONS = Map.of(
            "mcp", "Use the tools of this MCP server as you",
            "offline_access", "Stay connected while you are away");

    private static final Pattern ACTION_PATH = Pattern.compile("/[A-Za-z0-9/_.-]*");

    /** The sign-in form: fields username and password, hidden csrf and txn, POSTed to {@code actionPath}. */
    public static String login(String actionPath, String csrfToken, String txnId, String clientName, String errorOrNull,
                               String usernameOrNull) {
        StringBuilder b = new StringBuilder(2048);
        b.append("<h1>Sign in</h1>\n");
        b.append("<p><strong>").append(escape(nameOf(clientName)))
                .append("</strong> is asking to use this server as you. Sign in to continue.</p>\n");
        if (errorOrNull != null && !errorOrNull.isEmpty()) {
            b.append("<p class=\"error\" role=\"alert\">").append(escape(errorOrNull)).append("</p>\n");
        }
        b.append("<form method=\"post\" action=\"").append(action(actionPath)).append("\">\n");
        hidden(b, csrfToken, txnId);
        b.append("<label for=\"username\">Username</label>\n");
        b.append("<input type=\"text\" id=\"username\" name=\"username\" value=\"").append(escape(usernameOrNull))
                .append("\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"200\" required")
                .append(usernameOrNull == null || usernameOrNull.isEmpty() ? " autofocus" : "").append(">\n");
        b.append("<label for=\"password\">Password</label>\n");
        b.append("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" maxlength=\"1024\" required")
                .append(usernameOrNull == null || usernameOrNull.isEmpty() ? "" : " autofocus").append(">\n");
        b.append("<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div>\n");
        b.append("</form>");
        return Html.page("Sign in", b.toString());
    }

    /**
     * The consent form: names the client, shows where the browser goes next, lists the scopes, says who is signed in,
     * and submits {@code decision=allow} or {@code decision=deny} with hidden csrf and txn. Deny comes first in the
     * form so that pressing Enter never grants access.
     */
    public static String consent(String actionPath, String csrfToken, String txnId, String clientName, String redirectHost,
                                 List<String> scopes, String username) {
        return consent(actionPath, csrfToken, txnId, clientName, redirectHost, scopes, username, false, List.of());
    }

    /**
     * @param oneServer true when the token is for one upstream MCP server ({@code /mcp/NAME}, named in {@code servers});
     *                  false for {@code /mcp}, which also reaches every server in {@code servers} (none: built-in tools only)
     */
    public static String consent(String actionPath, String csrfToken, String txnId, String clientName, String redirectHost,
                                 List<String> scopes, String username, boolean oneServer, List<String> servers) {
        StringBuilder b = new StringBuilder(2048);
        b.append("<h1>Allow access?</h1>\n");
        b.append("<p><strong>").append(escape(nameOf(clientName)));
        if (oneServer && !servers.isEmpty()) {
            b.append("</strong> wants to use the MCP server <strong>").append(escape(servers.get(0))).append("</strong> as you.</p>\n");
        } else if (!servers.isEmpty()) {
            b.append("</strong> wants to use this MCP server as you, including the servers it fronts: ");
            for (int i = 0; i < servers.size(); i++) b.append(i == 0 ? "" : ", ").append("<strong>").append(escape(servers.get(i))).append("</strong>");
            b.append(".</p>\n");
        } else {
            b.append("</strong> wants to use this MCP server as you.</p>\n");
        }
        b.append("<p class=\"muted\">The application chose this name itself; it has not been verified.</p>\n");
        b.append("<p>After you decide, you will be sent to <strong>").append(escape(redirectHost))
                .append("</strong>.</p>\n");
        if (scopes == null || scopes.isEmpty()) {
            b.append("<p>It asks for basic access only.</p>\n");
        } else {
            b.append("<p>It asks to:</p>\n<ul>\n");
            for (String s : scopes) {
                String d = SCOPE_DESCRIPTIONS.get(s);
                b.append("<li>");
                if (d != null) b.append(escape(d)).append(" <span class=\"muted\">(<code>").append(escape(s)).append("</code>)</span>");
                else b.append("<code>").append(escape(s)).append("</code>");
                b.append("</li>\n");
            }
            b.append("</ul>\n");
        }
        b.append("<p class=\"muted\">Signed in as <strong>").append(escape(username)).append("</strong>.</p>\n");
        b.append("<form method=\"post\" action=\"").append(action(actionPath)).append("\">\n");
        hidden(b, csrfToken, txnId);
        b.append("<div class=\"actions\">")
                .append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>")
                .append("<button type=\"submit\" name=\"decision\" value=\"allow\" class=\"primary\">Allow</button>")
                .append("</div>\n");
        b.append("</form>");
        return Html.page("Allow access?", b.toString());
    }

    /** A plain error page: a heading and a sentence, both escaped, and no links. */
    public static String error(String title, String message) {
        String body = "<h1>" + escape(title) + "</h1>\n"
                + "<p>" + escape(message) + "</p>\n"
                + "<p class=\"muted\">You can close this window and start again from the application.</p>";
        return Html.page(title, body);
    }

    private static void hidden(StringBuilder b, String csrfToken, String txnId) {
        b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrfToken)).append("\">\n");
        b.append("<input type=\"hidden\" name=\"txn\" value=\"").append(escape(txnId)).append("\">\n");
    }

    private static String action(String path) {
        if (path == null || !ACTION_PATH.matcher(path).matches() || path.startsWith("//")) {
            throw new IllegalArgumentException("actionPath must be a plain absolute path such as /authorize/login");
        }
        return path;
    }

    private static String nameOf(String clientName) {
        return clientName == null || clientName.isBlank() ? "An unnamed application" : clientName;
    }
}
