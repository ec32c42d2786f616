package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Redirect URI rules: what may be registered (RFC 7591, RFC 8252, RFC 9700 §2.1), and exact matching at
 * {@code /authorize} with the one RFC 8252 §7.3 exception (any port on a loopback {@code http} URI).
 */
public final class RedirectUris {
    private RedirectUris() {}

    public static final int MAX_LENGTH = 2000;
    public static final int MAX_URIS = 20;

    private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern REG_NAME = Pattern.compile("[A-Za-z0-9._~-]+");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9A-Fa-f:.]+]");
    private static final Set<String> DENIED_SCHEMES = Set.of(
            "javascript", "data", "file", "vbscript", "blob", "about", "ftp", "ftps", "sftp", "ws", "wss",
            "filesystem", "view-source", "jar", "intent", "mailto", "tel", "sms");
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");
    private static final String NOT_IN_URI = "\"<>\\^`{|}";

    /** Throws {@link OAuthError} {@code invalid_redirect_uri} with a sentence when {@code uri} may not be registered. */
    public static void validateForRegistration(String uri) {
        String problem = problem(uri);
        if (problem != null) throw OAuthError.invalidRedirectUri(problem);
    }

    /** Validates every URI and removes duplicates, keeping the first occurrence's order. */
    public static List<String> validateList(List<String> uris) {
        if (uris == null || uris.isEmpty()) {
            throw OAuthError.invalidRedirectUri("redirect_uris is required: register at least one redirect URI.");
        }
        if (uris.size() > MAX_URIS) {
            throw OAuthError.invalidRedirectUri("At most " + MAX_URIS + " redirect URIs may be registered, but "
                    + uris.size() + " were sent.");
        }
        Set<String> out = new LinkedHashSet<>();
        for (String uri : uris) {
            validateForRegistration(uri);
            out.add(uri);
        }
        return List.copyOf(out);
    }

    /**
     * Exact string comparison, except that a registered loopback {@code http} URI (localhost, 127.0.0.1, [::1])
     * matches a presented one that differs only in its port (present, absent or another number), RFC 8252 §7.3.
     */
    public static boolean matches(String registered, String presented) {
        if (registered == null || presented == null || presented.indexOf('#') >= 0) return false;
        if (registered.equals(presented)) return true;
        Loopback r = loopback(registered);
        if (r == null) return false;
        Loopback p = loopback(presented);
        return p != null && r.host.equals(p.host) && r.rest.equals(p.rest);
    }

    /**
     * The redirect URI to use for an authorization request, or null when none is acceptable. When the client sent
     * one, it is returned as sent (so a loopback URI keeps its port) if it matches a registered URI. When it sent
     * none (null or empty) and exactly one is registered, that one is returned.
     */
    public static String resolve(List<String> registered, String presentedOrNull) {
        if (registered == null || registered.isEmpty()) return null;
        if (presentedOrNull == null || presentedOrNull.isEmpty()) {
            return registered.size() == 1 ? registered.get(0) : null;
        }
        if (presentedOrNull.indexOf('#') >= 0) return null;
        for (String r : registered) {
            if (matches(r, presentedOrNull)) return presentedOrNull;
        }
        return null;
    }

    /**
     * What to show a person as the destination of a redirect URI that passed validation: {@code host[:port]} for
     * http(s), {@code scheme://authority} or {@code scheme:} for a private-use scheme.
     */
    public static String displayHost(String uri) {
        if (uri == null) return "";
        int colon = uri.indexOf(':');
        if (colon <= 0) return uri;
        String scheme = uri.substring(0, colon);
        String rest = uri.substring(colon + 1);
        if (!rest.startsWith("//")) return scheme + ":";
        String authority = authorityOf(rest.substring(2));
        if (scheme.equals("http") || scheme.equals("https")) return authority;
        return scheme + "://" + authority;
    }

    /** A sentence saying why {@code uri} may not be registered, or null when it may. */
    static String problem(String uri) {
        if (uri == null || uri.isEmpty()) return "A redirect URI must not be empty.";
        if (uri.length() > MAX_LENGTH) {
            return "A redirect URI must be at most " + MAX_LENGTH + " characters long.";
        }
        String q = quote(uri);
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= 0x20 || c == 0x7F) return "The redirect URI " + q + " contains whitespace or a control character.";
            if (c >= 0x80) return "The redirect URI " + q + " must be plain ASCII: percent-encode other characters.";
            if (c == '#') return "The redirect URI " + q + " must not contain a fragment ('#').";
            if (c == '*') return "The redirect URI " + q + " must not contain a wildcard ('*'): register each exact URI.";
            if (NOT_IN_URI.indexOf(c) >= 0) {
                String what = c == '"' ? "a double quote" : c == '\\' ? "a backslash" : "the character '" + c + "'";
                return "The redirect URI " + q + " contains " + what + ", which is not allowed in a URI.";
            }
            if (c == '%' && !(i + 2 < uri.length() && isHex(uri.charAt(i + 1)) && isHex(uri.charAt(i + 2)))) {
                return "The redirect URI " + q + " contains a malformed percent-escape.";
            }
        }
        int colon = uri.indexOf(':');
        if (colon <= 0 || !SCHEME.matcher(uri.substring(0, colon)).matches()) {
            return "The redirect URI " + q + " must be an absolute URI with a scheme, such as https://app.example/callback.";
        }
        String scheme = uri.substring(0, colon);
        if (!scheme.equals(scheme.toLowerCase(java.util.Locale.ROOT))) {
            return "The scheme of the redirect URI " + q + " must be written in lowercase.";
        }
        if (DENIED_SCHEMES.contains(scheme)) {
            return "The redirect URI scheme '" + scheme + ":' is not allowed.";
        }
        String rest = uri.substring(colon + 1);
        boolean web = scheme.equals("https") || scheme.equals("http");
        if (!rest.startsWith("//")) {
            if (web) return "The redirect URI " + q + " must have a host, such as " + scheme + "://app.example/callback.";
            if (scheme.length() < 2) return "The redirect URI " + q + " looks like a file path, not a URI.";
            if (rest.isEmpty()) return "The private-use redirect URI " + q + " needs something after '" + scheme + ":'.";
            if (rest.indexOf('[') >= 0 || rest.indexOf(']') >= 0) {
                return "The redirect URI " + q + " contains a square bracket, which is only allowed around an IPv6 host.";
            }
            return null;
        }
        String afterSlashes = rest.substring(2);
        String authority = authorityOf(afterSlashes);
        String pathAndQuery = afterSlashes.substring(authority.length());
        if (authority.indexOf('@') >= 0) {
            return "The redirect URI " + q + " must not contain user information (a part ending in '@').";
        }
        if (pathAndQuery.indexOf('[') >= 0 || pathAndQuery.indexOf(']') >= 0) {
            return "The redirect URI " + q + " contains a square bracket, which is only allowed around an IPv6 host.";
        }
        if (!web) {
            if (scheme.length() < 2) return "The redirect URI " + q + " looks like a file path, not a URI.";
            if (afterSlashes.isEmpty()) {
                return "The private-use redirect URI " + q + " needs something after '" + scheme + "://'.";
            }
            if (!authority.isEmpty() && hostAndPort(authority) == null) {
                return "The redirect URI " + q + " has an invalid host or port.";
            }
            return null;
        }
        if (authority.isEmpty()) {
            return "The redirect URI " + q + " must have a host, such as " + scheme + "://app.example/callback.";
        }
        String[] hp = hostAndPort(authority);
        if (hp == null) return "The redirect URI " + q + " has an invalid host or port.";
        if (scheme.equals("http") && !LOOPBACK_HOSTS.contains(hp[0])) {
            return "The redirect URI " + q + " uses plain http, which is only allowed for localhost, 127.0.0.1 or [::1]: use https.";
        }
        return null;
    }

    /** {host, portOrNull} of a valid authority (without userinfo), or null. */
    private static String[] hostAndPort(String authority) {
        String host;
        String after;
        if (authority.startsWith("[")) {
            int rb = authority.indexOf(']');
            if (rb < 0) return null;
            host = authority.substring(0, rb + 1);
            after = authority.substring(rb + 1);
            if (!IPV6.matcher(host).matches()) return null;
        } else {
            int c = authority.indexOf(':');
            host = c < 0 ? authority : authority.substring(0, c);
            after = c < 0 ? "" : authority.substring(c);
            if (!REG_NAME.matcher(host).matches()) return null;
        }
        if (after.isEmpty()) return new String[] {host, null};
        if (!after.startsWith(":")) return null;
        String port = after.substring(1);
        if (!PORT.matcher(port).matches()) return null;
        int n = Integer.parseInt(port);
        if (n < 1 || n > 65535) return null;
        return new String[] {host, port};
    }

    private static String authorityOf(String afterSlashes) {
        int end = afterSlashes.length();
        for (int i = 0; i < afterSlashes.length(); i++) {
            char c = afterSlashes.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        return afterSlashes.substring(0, end);
    }

    private record Loopback(String host, String rest) {}

    /** The parts of an {@code http} URI on a loopback host, or null when it is not one. */
    private static Loopback loopback(String uri) {
        if (!uri.startsWith("http://")) return null;
        String s = uri.substring("http://".length());
        String authority = authorityOf(s);
        if (authority.indexOf('@') >= 0) return null;
        String[] hp = hostAndPort(authority);
        if (hp == null || !LOOPBACK_HOSTS.contains(hp[0])) return null;
        return new Loopback(hp[0], s.substring(authority.length()));
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static String quote(String uri) {
        return "'" + (uri.length() > 100 ? uri.substring(0, 100) + "..." : uri) + "'";
    }
}
