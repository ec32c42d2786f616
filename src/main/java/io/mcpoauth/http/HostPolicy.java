package io.mcpoauth.http;

import io.mcpoauth.config.Settings;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which {@code Host} and {@code Origin} values name this server: DNS-rebinding protection for {@code /mcp}, and the
 * one Origin check of every edge (the account API's state-changing requests use it with {@code PUBLIC_URL} alone).
 *
 * <ul>
 *   <li>the host[:port] of {@code PUBLIC_URL};</li>
 *   <li>when {@code PUBLIC_URL} is a loopback name or address: {@code localhost}, {@code 127.0.0.1} and {@code [::1]}
 *       on the same port;</li>
 *   <li>each {@code ALLOWED_HOSTS} entry: {@code name} (any port) or {@code name:port} (that port only).</li>
 * </ul>
 * A Host without a port means the default port of {@code PUBLIC_URL}'s scheme; an Origin without a port means the
 * default port of the Origin's own scheme. An Origin naming the {@code PUBLIC_URL} host (or its loopback aliases) must
 * also have {@code PUBLIC_URL}'s scheme: a page served over http is another origin than the https one, even on the
 * same host and port. {@code ALLOWED_HOSTS} entries name hosts, not origins: http and https are both accepted there. Names compare case-insensitively. A missing Origin is allowed (non-browser
 * clients send none); {@code Origin: null} or anything unparsable is refused.
 */
public final class HostPolicy {
    private static final java.util.regex.Pattern LOOPBACK_V4 = java.util.regex.Pattern.compile("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    private static final java.util.regex.Pattern IPV6_LITERAL = java.util.regex.Pattern.compile("\\[[0-9A-Fa-f:.]+\\]");
    private static final java.util.regex.Pattern HOST_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._-]+");
    private static final java.util.regex.Pattern PORT_SUFFIX = java.util.regex.Pattern.compile(":\\d{1,5}");
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");

    /** name:port of PUBLIC_URL (and its loopback aliases), port as a number: Origins must also match the scheme. */
    private final Set<String> publicAuthorities = new LinkedHashSet<>();
    /** name:port entries of ALLOWED_HOSTS, port as a number. */
    private final Set<String> exact = new LinkedHashSet<>();
    /** names accepted on any port. */
    private final Set<String> anyPort = new LinkedHashSet<>();
    private final int publicDefaultPort;
    private final String publicScheme;

    /** {@code PUBLIC_URL} and {@code ALLOWED_HOSTS}: what {@code /mcp} accepts. */
    public HostPolicy(Settings settings) {
        this(settings.publicUrl, settings.allowedHosts);
    }

    /** {@code publicUrl} (with the loopback names when it is one) and {@code allowedHosts} entries. */
    public HostPolicy(URI publicUrl, List<String> allowedHosts) {
        String scheme = publicUrl.getScheme().toLowerCase(Locale.ROOT);
        publicDefaultPort = defaultPort(scheme);
        publicScheme = scheme;
        String name = normaliseName(publicUrl.getHost());
        int port = publicUrl.getPort() == -1 ? publicDefaultPort : publicUrl.getPort();
        publicAuthorities.add(name + ":" + port);
        if (isLoopback(name)) {
            for (String l : LOOPBACK) publicAuthorities.add(l + ":" + port);
        }
        for (String entry : allowedHosts) {
            Authority a = Authority.parse(entry.trim());
            if (a == null) throw new IllegalArgumentException("ALLOWED_HOSTS entry is not host or host:port: " + entry);
            if (a.port == -1) anyPort.add(a.name);
            else exact.add(a.name + ":" + a.port);
        }
    }

    /** True when the request has exactly one Host header and it names this server. */
    public boolean allowsHostOf(HttpServletRequest req) {
        List<String> values = Collections.list(req.getHeaders("Host"));
        return values.size() == 1 && hostAllowed(values.get(0));
    }

    /** True when the request has no Origin header, or exactly one that names this server. */
    public boolean allowsOriginOf(HttpServletRequest req) {
        List<String> origins = Collections.list(req.getHeaders("Origin"));
        return origins.isEmpty() || origins.size() == 1 && originAllowed(origins.get(0));
    }

    /** True when a request's Host header names this server. Null or malformed is refused. */
    public boolean hostAllowed(String hostHeader) {
        Authority a = hostHeader == null ? null : Authority.parse(hostHeader.trim());
        if (a == null) return false;
        String authority = a.name + ":" + (a.port == -1 ? publicDefaultPort : a.port);
        return publicAuthorities.contains(authority) || allowed(a.name, authority);
    }

    /** True when the Origin is absent or names this server. */
    public boolean originAllowed(String origin) {
        if (origin == null) return true;
        URI uri;
        try {
            uri = new URI(origin.trim());
        } catch (Exception e) {
            return false;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getRawAuthority() == null
                || uri.getRawUserInfo() != null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return false;
        }
        Authority a = Authority.parse(uri.getRawAuthority());
        if (a == null) return false;
        String authority = a.name + ":" + (a.port == -1 ? defaultPort(scheme) : a.port);
        return scheme.equals(publicScheme) && publicAuthorities.contains(authority) || allowed(a.name, authority);
    }

    /** The accepted host:port values (for logs and error descriptions). */
    public Set<String> describe() {
        Set<String> all = new LinkedHashSet<>(publicAuthorities);
        all.addAll(exact);
        for (String n : anyPort) all.add(n + ":*");
        return all;
    }

    /** An ALLOWED_HOSTS entry: {@code name:port}, or {@code name} on any port. */
    private boolean allowed(String name, String authority) {
        return exact.contains(authority) || anyPort.contains(name);
    }

    private static int defaultPort(String scheme) {
        return "https".equals(scheme) ? 443 : 80;
    }

    static boolean isLoopback(String name) {
        return LOOPBACK.contains(name) || name.startsWith("127.") && LOOPBACK_V4.matcher(name).matches();
    }

    private static String normaliseName(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.contains(":") && !h.startsWith("[")) h = "[" + h + "]";
        return h;
    }

    /** A host[:port] as in a Host header or URI authority; IPv6 literals keep their brackets. */
    record Authority(String name, int port) {
        static Authority parse(String s) {
            if (s == null || s.isEmpty() || s.length() > 300) return null;
            String name;
            String rest;
            if (s.startsWith("[")) {
                int end = s.indexOf(']');
                if (end < 0) return null;
                name = s.substring(0, end + 1);
                rest = s.substring(end + 1);
                if (!IPV6_LITERAL.matcher(name).matches()) return null;
            } else {
                int colon = s.indexOf(':');
                name = colon < 0 ? s : s.substring(0, colon);
                rest = colon < 0 ? "" : s.substring(colon);
                if (!HOST_NAME.matcher(name).matches()) return null;
            }
            int port = -1;
            if (!rest.isEmpty()) {
                if (!PORT_SUFFIX.matcher(rest).matches()) return null;
                port = Integer.parseInt(rest.substring(1));
                if (port < 1 || port > 65535) return null;
            }
            return new Authority(name.toLowerCase(Locale.ROOT), port);
        }
    }
}
