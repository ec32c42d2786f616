package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Waits are measured on a monotonic clock (a wall-clock step changes
 * no Retry-After), and an IPv6 client is limited by its /64, not each /128 separately.
 */
class MonotonicLimitsTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    static HttpResponse<String> register(TestServer s, String address) {
        return s.send(s.request("/register").header("Content-Type", "application/json").header("X-Forwarded-For", address)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(RegistrationTest.CLAUDE)));
    }

    static long retryAfter(HttpResponse<String> r) {
        return Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
    }

    @Test
    void aBackwardWallClockStepDoesNotLengthenAnyWait() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of("REGISTRATION_RATE_LIMIT", "2", "TRUSTED_PROXIES", "127.0.0.1"), clock)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            // registration: two a minute
            assertEquals(201, register(s, "192.0.2.1").statusCode());
            assertEquals(201, register(s, "192.0.2.1").statusCode());
            assertEquals(429, register(s, "192.0.2.1").statusCode());
            // sign-in: guessing alice's password from one address until refused
            Map<String, String> form = openForm(c);
            while (login(s, c, form, "192.0.2.1", "wrong").statusCode() == 401) {
                // next guess
            }

            clock.stepWallClock(Duration.ofMinutes(-40));
            HttpResponse<String> reg = register(s, "192.0.2.1");
            assertEquals(429, reg.statusCode());
            assertTrue(retryAfter(reg) <= 60, "registration Retry-After " + retryAfter(reg) + " after the clock stepped back");
            HttpResponse<String> in = login(s, c, form, "192.0.2.1", PASSWORD);
            assertEquals(429, in.statusCode());
            assertTrue(retryAfter(in) <= Duration.ofMinutes(15).toSeconds() / 5 + 1, "sign-in Retry-After " + retryAfter(in));
            assertTrue(!in.body().contains("26 minutes") && !in.body().contains("40 minutes"), in.body());

            // as time passes (monotonically) the limits open again, whatever the wall clock says
            clock.advance(Duration.ofSeconds(retryAfter(reg)));
            assertEquals(201, register(s, "192.0.2.1").statusCode());
            clock.stepWallClock(Duration.ofMinutes(80)); // and forwards: no free permits either
            assertEquals(429, register(s, "192.0.2.1").statusCode());
        }
    }

    @Test
    void anIpv6ClientIsLimitedByItsSlash64() {
        try (TestServer s = TestServer.start(dir, Map.of("REGISTRATION_RATE_LIMIT", "2", "TRUSTED_PROXIES", "127.0.0.1"))) {
            assertEquals(201, register(s, "2001:db8:aa:bb::1").statusCode());
            assertEquals(201, register(s, "2001:db8:aa:bb:1:2:3:4").statusCode());
            assertEquals(429, register(s, "2001:db8:aa:bb:ffff::9").statusCode(), "another /128 of the same /64 escaped the limit");
            assertEquals(429, register(s, "[2001:db8:aa:bb::77]").statusCode());
            assertEquals(201, register(s, "2001:db8:aa:bc::1").statusCode(), "another /64 is another client");
            // IPv4 stays /32, and an IPv4-mapped IPv6 address is that IPv4 address
            assertEquals(201, register(s, "192.0.2.7").statusCode());
            assertEquals(201, register(s, "192.0.2.8").statusCode());
            assertEquals(201, register(s, "::ffff:192.0.2.7").statusCode());
            assertEquals(429, register(s, "192.0.2.7").statusCode());
        }
    }

    static Map<String, String> openForm(OAuthClientSim c) {
        HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
        assertEquals(200, page.statusCode(), page.body());
        return OAuthClientSim.hiddenFields(page.body());
    }

    static HttpResponse<String> login(TestServer s, OAuthClientSim c, Map<String, String> form, String address, String password) {
        Map<String, String> f = new LinkedHashMap<>(form);
        f.put("username", "alice");
        f.put("password", password);
        return s.send(s.request("/login").header("Content-Type", "application/x-www-form-urlencoded").header("X-Forwarded-For", address)
                .header("Cookie", c.cookie).POST(java.net.http.HttpRequest.BodyPublishers.ofString(TestServer.form(f))));
    }
}
