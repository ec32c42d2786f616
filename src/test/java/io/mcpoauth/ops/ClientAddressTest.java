package io.mcpoauth.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.Settings;
import io.mcpoauth.core.Cidr;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TRUSTED_PROXIES parsing (IPv4 and IPv6 CIDRs) and which X-Forwarded-For hop counts. */
class ClientAddressTest {

    @Test
    void cidrsMatchIpv4AndIpv6() {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertTrue(ten.contains("10.1.2.3"));
        assertFalse(ten.contains("11.0.0.1"));
        assertTrue(Cidr.parse("192.168.1.7").contains("192.168.1.7"), "a bare address is a /32");
        assertFalse(Cidr.parse("192.168.1.7").contains("192.168.1.8"));
        Cidr ula = Cidr.parse("fd00::/8");
        assertTrue(ula.contains("fd12:3456::1"));
        assertFalse(ula.contains("fe80::1"));
        assertFalse(ula.contains("10.0.0.1"), "families never match each other");
        assertTrue(Cidr.parse("::1").contains("0:0:0:0:0:0:0:1"));
        assertTrue(Cidr.parse("::1").contains("[::1]"), "brackets as servlet containers report them");
        assertTrue(ten.contains("::ffff:10.9.9.9"), "IPv4-mapped IPv6 is its IPv4 address");
        assertTrue(Cidr.parse("0.0.0.0/0").contains("203.0.113.9"));
        assertTrue(ten.contains("10.0.0.1:4711"), "a port after an IPv4 address is ignored");
        assertFalse(ten.contains("localhost"), "names are never looked up");
        assertEquals("10.0.0.0/8", Cidr.parse("10.20.30.40/8").toString(), "host bits are masked");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0", "300.1.1.1", "example.com", "10.0.0.0/x", "1.2.3.4/", "fd00::zz"})
    void badRangesAreRefused(String text) {
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
    }

    @Test
    void settingNamesTheBadEntry() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.from(Map.of("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/33")));
        assertTrue(e.getMessage().startsWith("TRUSTED_PROXIES=127.0.0.1, 10.0.0.0/33: expected IP addresses or CIDR ranges"), e.getMessage());
        assertTrue(e.getMessage().contains("'10.0.0.0/33'"), e.getMessage());
        Settings s = Settings.from(Map.of("TRUSTED_PROXIES", "127.0.0.1 ::1, 10.0.0.0/8"));
        assertEquals(List.of(Cidr.parse("127.0.0.1"), Cidr.parse("::1"), Cidr.parse("10.0.0.0/8")), s.trustedProxies);
        assertEquals(List.of(), Settings.from(Map.of()).trustedProxies);
    }

    @Test
    void forwardedForIsIgnoredWithoutTrustedProxies() {
        ClientAddress a = new ClientAddress(List.of());
        assertEquals("127.0.0.1", a.resolve("127.0.0.1", List.of("203.0.113.5")));
        assertFalse(a.trusts("127.0.0.1"));
    }

    @Test
    void forwardedForIsIgnoredFromAnUntrustedPeer() {
        ClientAddress a = new ClientAddress(List.of(Cidr.parse("10.0.0.0/8")));
        assertEquals("198.51.100.7", a.resolve("198.51.100.7", List.of("203.0.113.5")));
    }

    @Test
    void rightMostUntrustedHopIsTheClient() {
        ClientAddress a = new ClientAddress(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8")));
        // the client wrote a fake first hop; our proxies appended the real ones
        assertEquals("203.0.113.5", a.resolve("10.0.0.2", List.of("1.1.1.1, 203.0.113.5, 10.0.0.9")));
        assertEquals("203.0.113.5", a.resolve("10.0.0.2", List.of("1.1.1.1", "203.0.113.5", "10.0.0.9")), "several headers in order");
        assertEquals("2001:db8:0:0:0:0:0:1", a.resolve("fd00::2", List.of("2001:db8::1")));
        assertEquals("10.0.0.7", a.resolve("10.0.0.2", List.of("10.0.0.7")), "only proxies: the left-most of them");
        assertEquals("10.0.0.9", a.resolve("10.0.0.2", List.of("garbage, 10.0.0.9")), "garbage stops the walk at the last good hop");
        assertEquals("10.0.0.2", a.resolve("10.0.0.2", List.of()), "no header: the peer");
        assertEquals("203.0.113.5", a.resolve("10.0.0.2", List.of("203.0.113.5:443")));
    }

    @Test
    void addressesAreCanonical() {
        assertEquals("0:0:0:0:0:0:0:1", ClientAddress.normalize("::1"));
        assertEquals("0:0:0:0:0:0:0:1", ClientAddress.normalize("[::1]"));
        assertEquals("127.0.0.1", ClientAddress.normalize("127.0.0.1"));
        assertNull(Cidr.literal("not-an-ip"));
    }
}
