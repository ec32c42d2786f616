package io.mcpoauth.core;

/**
 * The key under which a client address counts against a per-address limit: an IPv4 address as itself (/32), an IPv6
 * address by its /64 network (one subscriber usually holds a whole /64, so keying each /128 separately would give
 * one machine 2^64 budgets). IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}) counts as the IPv4 address. Anything that is
 * not an IP literal is returned as it is.
 */
public final class AddressKey {
    private AddressKey() {}

    public static String of(String address) {
        if (address == null) return "?";
        if (address.indexOf(':') < 0) return address; // IPv4 (the servlet container's canonical form) or a name
        byte[] b = Cidr.literal(address);
        if (b == null) return address;
        if (b.length == 4) return (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
        StringBuilder s = new StringBuilder(24);
        for (int i = 0; i < 8; i += 2) {
            s.append(Integer.toHexString((b[i] & 0xFF) << 8 | b[i + 1] & 0xFF)).append(':');
        }
        return s.append(":/64").toString();
    }
}
