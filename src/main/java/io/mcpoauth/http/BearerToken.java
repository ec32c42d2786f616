package io.mcpoauth.http;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a request's {@code Authorization} header says as bearer credentials (RFC 6750 §2.1), read the same way by
 * every edge that takes a bearer token: {@code /mcp}, the admin API, client management (RFC 7592) and introspection.
 * The scheme is case-insensitive and separated from the token by spaces or tabs; the token is what follows, without
 * surrounding whitespace.
 *
 * @param status what was found
 * @param token  the token when {@link Status#PRESENT}, else null
 */
public record BearerToken(Status status, String token) {
    /** Longer than any token this server issues or accepts. */
    public static final int MAX_LENGTH = 4096;
    private static final Pattern B64TOKEN = Pattern.compile("[A-Za-z0-9\\-._~+/]+=*");

    public enum Status {
        /** No Authorization header, or only whitespace in it. */
        ABSENT,
        /** More than one Authorization header. */
        REPEATED,
        /** Another scheme (Basic, ...). */
        OTHER_SCHEME,
        /** The Bearer scheme with no token, a token longer than {@link #MAX_LENGTH}, or whitespace inside it. */
        MALFORMED,
        /** The Bearer scheme and one token. */
        PRESENT
    }

    private static final BearerToken ABSENT = new BearerToken(Status.ABSENT, null);

    /** The bearer credentials of a request: every Authorization header it carries counts. */
    public static BearerToken of(HttpServletRequest req) {
        List<String> headers = Collections.list(req.getHeaders("Authorization"));
        if (headers.size() > 1) return new BearerToken(Status.REPEATED, null);
        return parse(headers.isEmpty() ? null : headers.get(0));
    }

    /** One Authorization header value (null when there is none). */
    public static BearerToken parse(String header) {
        String h = header == null ? "" : header.trim();
        if (h.isEmpty()) return ABSENT;
        int space = indexOfWhitespace(h);
        String scheme = space < 0 ? h : h.substring(0, space);
        if (!scheme.equalsIgnoreCase("Bearer")) return new BearerToken(Status.OTHER_SCHEME, null);
        String token = space < 0 ? "" : h.substring(space + 1).trim();
        if (token.isEmpty() || token.length() > MAX_LENGTH || indexOfWhitespace(token) >= 0) return new BearerToken(Status.MALFORMED, null);
        return new BearerToken(Status.PRESENT, token);
    }

    public boolean present() {
        return status == Status.PRESENT;
    }

    /** True when the Bearer scheme was used, with a usable token or not ({@link Status#PRESENT} or {@link Status#MALFORMED}). */
    public boolean bearerScheme() {
        return status == Status.PRESENT || status == Status.MALFORMED;
    }

    /**
     * True when the token has the RFC 6750 {@code b64token} syntax. Every token this server issues has it; a resource
     * server refuses others before looking anything up.
     */
    public boolean b64token() {
        return token != null && B64TOKEN.matcher(token).matches();
    }

    /**
     * True when the query (raw, without {@code ?}) names {@code name} as a parameter, in any letter case and even
     * percent-encoded: for refusing access tokens sent in the URI (RFC 6750 §2.3), which this server never accepts.
     */
    public static boolean inQuery(String query, String name) {
        if (query == null || query.isEmpty()) return false;
        for (String part : query.split("[&;]")) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            try {
                key = URLDecoder.decode(key, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                // keep the raw name
            }
            if (key.trim().equalsIgnoreCase(name)) return true;
        }
        return false;
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') return i;
        }
        return -1;
    }
}
