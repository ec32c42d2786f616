package io.mcpoauth.core;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An IPv4 or IPv6 address range ({@code 10.0.0.0/8}, {@code fd00::/8}; a bare address is a range of one). Parsing
 * never touches DNS: only literals are accepted. An IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}) is matched as
 * the IPv4 address it carries.
 */
public record Cidr(byte[] network, int prefix) {
    private static final java.util.regex.Pattern PREFIX_LENGTH = java.util.regex.Pattern.compile("[0-9]{1,3}");
    private static final java.util.regex.Pattern PORT_SUFFIX = java.util.regex.Pattern.compile(":[0-9]{1,5}");
    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final java.util.regex.Pattern IPV6 = java.util.regex.Pattern.compile("[0-9a-f:.]+");

    /** Parses one range; throws {@link IllegalArgumentException} with a short reason. */
    public static Cidr parse(String text) {
        String t = text == null ? "" : text.strip();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        byte[] bytes = literal(addr);
        if (bytes == null) throw new IllegalArgumentException("'" + t + "' is not an IP address or CIDR range");
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!PREFIX_LENGTH.matcher(p).matches()) throw new IllegalArgumentException("'" + t + "' has no valid prefix length after '/'");
            prefix = Integer.parseInt(p);
            if (prefix > bits) throw new IllegalArgumentException("'" + t + "': the prefix length is at most " + bits);
        }
        return new Cidr(mask(bytes, prefix), prefix);
    }

    /** Parses a comma- or space-separated list; empty text is an empty list. */
    public static List<Cidr> parseList(String text) {
        List<Cidr> out = new ArrayList<>();
        if (text == null) return out;
        for (String part : text.split("[,\\s]+")) {
            if (!part.isEmpty()) out.add(parse(part));
        }
        return List.copyOf(out);
    }

    /** True when {@code address} (a literal; anything else is false) lies in this range. */
    public boolean contains(String address) {
        byte[] a = literal(address);
        return a != null && contains(a);
    }

    public boolean contains(byte[] address) {
        if (address.length != network.length) return false;
        byte[] m = mask(address, prefix);
        return java.util.Arrays.equals(m, network);
    }

    /** True when any range of {@code ranges} contains {@code address}. */
    public static boolean anyContains(List<Cidr> ranges, String address) {
        byte[] a = literal(address);
        if (a == null) return false;
        for (Cidr c : ranges) {
            if (c.contains(a)) return true;
        }
        return false;
    }

    /**
     * The bytes of an IP literal (4 for IPv4, 16 for IPv6; IPv4-mapped IPv6 becomes 4), or null when {@code s} is not
     * one. Accepts {@code [v6]}, {@code [v6]:port}, {@code v4:port} and a {@code %zone} suffix, as seen in
     * {@code X-Forwarded-For} and from servlet containers.
     */
    public static byte[] literal(String s) {
        if (s == null) return null;
        String t = s.strip();
        if (t.isEmpty() || t.length() > 64) return null;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0) return null;
            String rest = t.substring(close + 1);
            if (!rest.isEmpty() && !PORT_SUFFIX.matcher(rest).matches()) return null;
            t = t.substring(1, close);
            if (!t.contains(":")) return null;
        } else if (t.indexOf(':') >= 0 && t.indexOf(':') == t.lastIndexOf(':') && t.indexOf('.') > 0) {
            t = t.substring(0, t.indexOf(':')); // a.b.c.d:port
        }
        int zone = t.indexOf('%');
        if (zone >= 0) t = t.substring(0, zone);
        if (IPV4.matcher(t).matches()) {
            byte[] b = new byte[4];
            String[] parts = t.split("\\.");
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(parts[i]);
                if (v > 255) return null;
                b[i] = (byte) v;
            }
            return b;
        }
        if (!t.contains(":") || !IPV6.matcher(t.toLowerCase(Locale.ROOT)).matches()) return null;
        try {
            InetAddress a = InetAddress.getByName(t); // an IPv6 literal: no lookup
            if (a instanceof Inet4Address) return a.getAddress(); // ::ffff:a.b.c.d comes back as IPv4
            if (a instanceof Inet6Address) return a.getAddress();
            return null;
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xFF << (8 - keep)));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            return "?/" + prefix;
        }
    }
}
