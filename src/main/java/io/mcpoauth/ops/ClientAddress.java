package io.mcpoauth.ops;

import io.mcpoauth.core.Cidr;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The address a request comes from, for rate limits and the audit log. {@code X-Forwarded-For} counts only when the
 * direct peer is a trusted proxy ({@code TRUSTED_PROXIES}); then the hops are read from the right, skipping trusted
 * proxies, and the first untrusted one is the client (everything to its left could have been written by the client
 * itself). With no trusted proxies the header is ignored. Nothing else (URLs, schemes, hosts) is ever taken from
 * forwarded headers.
 */
public final class ClientAddress {
    /** The request attribute holding the resolved address (set by {@link OpsFilter}). */
    public static final String ATTRIBUTE = ClientAddress.class.getName();
    private static final int MAX_HOPS = 32;

    private final List<Cidr> trusted;

    public ClientAddress(List<Cidr> trustedProxies) {
        this.trusted = List.copyOf(trustedProxies);
    }

    public boolean trusts(String address) {
        return !trusted.isEmpty() && Cidr.anyContains(trusted, address);
    }

    /** The client's address for a request; the attribute when {@link OpsFilter} already resolved it. */
    public String of(HttpServletRequest req) {
        Object a = req.getAttribute(ATTRIBUTE);
        if (a instanceof String s) return s;
        return resolve(req);
    }

    /** {@link #resolve(String, List)} for a request; its {@code X-Forwarded-For} headers are read only from a trusted proxy. */
    public String resolve(HttpServletRequest req) {
        String peer = req.getRemoteAddr();
        if (!trusts(peer)) return normalize(peer);
        return resolve(peer, Collections.list(req.getHeaders("X-Forwarded-For")));
    }

    /**
     * @param peer          the direct TCP peer
     * @param forwardedFor  every {@code X-Forwarded-For} header value, in order (each may list several hops)
     */
    public String resolve(String peer, List<String> forwardedFor) {
        String client = normalize(peer);
        if (!trusts(peer) || forwardedFor == null || forwardedFor.isEmpty()) return client;
        List<String> hops = new ArrayList<>();
        for (String h : forwardedFor) {
            if (h == null) continue;
            for (String part : h.split(",")) {
                String p = part.strip();
                if (!p.isEmpty()) hops.add(p);
            }
        }
        int seen = 0;
        for (int i = hops.size() - 1; i >= 0 && seen < MAX_HOPS; i--, seen++) {
            String hop = hops.get(i);
            if (Cidr.literal(hop) == null) return client; // garbage: trust nothing further left
            client = normalize(hop);
            if (!trusts(hop)) return client;
        }
        return client;
    }

    /** A literal in its canonical text form (so one client is one rate-limit key); other text unchanged. */
    static String normalize(String address) {
        if (isCanonicalIpv4(address)) return address; // what the servlet container gives for every IPv4 peer
        byte[] b = Cidr.literal(address);
        if (b == null) return address == null ? "?" : address;
        try {
            String s = java.net.InetAddress.getByAddress(b).getHostAddress();
            return s;
        } catch (java.net.UnknownHostException e) {
            return address;
        }
    }

    /** {@code a.b.c.d}, each part 0-255 without leading zeros: already the canonical form. */
    static boolean isCanonicalIpv4(String s) {
        if (s == null || s.length() < 7 || s.length() > 15) return false;
        int parts = 0;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            int v = 0;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') v = v * 10 + (s.charAt(i++) - '0');
            int len = i - start;
            if (len == 0 || len > 3 || v > 255 || len > 1 && s.charAt(start) == '0') return false;
            if (++parts == 4) return i == s.length();
            if (i == s.length() || s.charAt(i++) != '.') return false;
        }
        return false;
    }
}
