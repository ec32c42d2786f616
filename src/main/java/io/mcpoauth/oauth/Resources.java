package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The {@code resource} parameter (RFC 8707): the only resource we issue tokens for is our MCP endpoint. A query
 * string on the presented value is ignored (ChatGPT adds one), as is a single trailing slash, letter case in the
 * scheme and host, and a default port.
 */
public final class Resources {
    private Resources() {}

    /** True when {@code presented} is an absolute URI without fragment that names {@code ourResource}. */
    public static boolean matchesOurResource(String presented, String ourResource) {
        String p = canonical(presented);
        String o = canonical(ourResource);
        return p != null && p.equals(o);
    }

    /**
     * Which of {@code ours} (the first is the default) the client asked for: the default when it sent none, the one it
     * names otherwise; {@link OAuthError} {@code invalid_target} for anything else.
     */
    public static String requireOneOfOurs(String presentedOrNull, java.util.List<String> ours) {
        if (presentedOrNull == null || presentedOrNull.isEmpty()) return ours.get(0);
        if (canonical(presentedOrNull) == null) {
            throw OAuthError.invalidTarget("The resource parameter must be an absolute URI (scheme and host) without user information or a fragment.");
        }
        for (String o : ours) {
            if (matchesOurResource(presentedOrNull, o)) return o;
        }
        String shown = presentedOrNull.length() > 100 ? presentedOrNull.substring(0, 100) + "..." : presentedOrNull;
        throw OAuthError.invalidTarget("The resource '" + shown + "' is not served by this authorization server; its resources are "
                + String.join(", ", ours) + ".");
    }

    /**
     * {@code ourResource} when the client sent no resource or sent ours; otherwise {@link OAuthError}
     * {@code invalid_target}.
     */
    public static String requireOurResource(String presentedOrNull, String ourResource) {
        if (presentedOrNull == null || presentedOrNull.isEmpty()) return ourResource;
        if (canonical(presentedOrNull) == null) {
            throw OAuthError.invalidTarget("The resource parameter must be an absolute URI (scheme and host) without user information or a fragment.");
        }
        if (!matchesOurResource(presentedOrNull, ourResource)) {
            String shown = presentedOrNull.length() > 100 ? presentedOrNull.substring(0, 100) + "..." : presentedOrNull;
            throw OAuthError.invalidTarget("The resource '" + shown + "' is not served by this authorization server; the only resource is "
                    + ourResource + ".");
        }
        return ourResource;
    }

    /** scheme://host[:port]/path in a comparable form (no query, no single trailing slash), or null when unusable. */
    static String canonical(String s) {
        if (s == null || s.isEmpty() || s.length() > 2000 || s.indexOf('#') >= 0) return null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7F) return null;
        }
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            return null;
        }
        if (!u.isAbsolute() || u.isOpaque() || u.getHost() == null || u.getRawUserInfo() != null) return null;
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        int port = u.getPort();
        boolean defaultPort = port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
        return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port) + path;
    }
}
