package io.mcpoauth.login;

import static io.mcpoauth.login.PageAsserts.redirectTo;
import static io.mcpoauth.login.PageAsserts.securityHeaders;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Password guessing is throttled per user name and per address (429), and the real user gets in again once
 * the window has passed. Time is a {@link TestClock}: nothing sleeps.
 */
class LoginThrottleTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    /** POST /login on a fresh form of {@code c}'s browser. */
    static HttpResponse<String> attempt(OAuthClientSim c, Map<String, String> form, String user, String password) {
        Map<String, String> f = new java.util.LinkedHashMap<>(form);
        f.put("username", user);
        f.put("password", password);
        return c.browserPost("/login", f);
    }

    static Map<String, String> openForm(OAuthClientSim c) {
        HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
        assertEquals(200, page.statusCode(), page.body());
        return OAuthClientSim.hiddenFields(page.body());
    }

    static void throttled(HttpResponse<String> r) {
        assertEquals(429, r.statusCode(), r.body());
        assertTrue(r.body().contains("Too many sign-in attempts"), r.body());
        assertTrue(r.headers().firstValue("Location").isEmpty());
        assertTrue(r.headers().firstValue("Set-Cookie").isEmpty(), "no sign-in on a throttled attempt");
        securityHeaders(r);
    }

    @Test
    void perUserThenPerAddressThenTheWindowPasses() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of(), clock)) {
            for (String u : List.of("alice", "bob", "carol", "dave", "erin", "frank", "grace")) OAuthClientSim.addUser(s, u, PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            Map<String, String> form = openForm(c);

            // 1. guessing alice's password: 401s, then 429 -- also for the right password, and for another spelling of the name
            int perUser = 0;
            HttpResponse<String> r;
            while ((r = attempt(c, form, "alice", "wrong password " + perUser)).statusCode() == 401) {
                assertTrue(r.body().contains("wrong"), r.body());
                perUser++;
                assertTrue(perUser <= 50, "no per-user limit after 50 wrong passwords");
            }
            throttled(r);
            assertTrue(perUser >= 3, "the limit leaves room for typos: " + perUser);
            throttled(attempt(c, form, "alice", PASSWORD));
            throttled(attempt(c, form, " ALICE ", PASSWORD));
            int addressUsed = perUser + 3;

            // 2. other users from the same address are not limited by alice's count...
            HttpResponse<String> bob = attempt(c, form, "bob", "wrong password");
            assertEquals(401, bob.statusCode(), "another user is not limited by alice's per-user count");
            addressUsed++;
            // ... but by the per-address limit: spread guesses below the per-user limit until the address is refused
            List<String> others = List.of("bob", "carol", "dave", "erin", "frank", "grace");
            int[] tries = new int[others.size()];
            tries[0] = 1;
            HttpResponse<String> last = null;
            String lastUser = null;
            outer:
            for (int round = 0; round < perUser - 1; round++) {
                for (int i = 0; i < others.size(); i++) {
                    if (tries[i] >= perUser - 1) continue;
                    last = attempt(c, form, others.get(i), "wrong password");
                    lastUser = others.get(i);
                    tries[i]++;
                    if (last.statusCode() != 401) break outer;
                    addressUsed++;
                }
            }
            assertNotNull(last);
            throttled(last);
            assertTrue(tries[others.indexOf(lastUser)] < perUser, lastUser + " was refused by the address limit, not its own");
            assertTrue(addressUsed > perUser, "the address limit is above the per-user limit: " + addressUsed);
            // a user who never tried, with the right password, is refused as well while the address is limited
            throttled(attempt(c, form, "grace", PASSWORD));

            // 3. a minute later alice is still limited
            clock.advance(Duration.ofMinutes(1));
            form = openForm(c);
            throttled(attempt(c, form, "alice", PASSWORD));

            // 4. after the window the real users get in (the open form expired meanwhile: open a new one)
            clock.advance(Duration.ofMinutes(15));
            form = openForm(c);
            HttpResponse<String> ok = attempt(c, form, "alice", PASSWORD);
            assertEquals(303, ok.statusCode(), ok.body());
            OAuthClientSim g = new OAuthClientSim(s);
            g.clientId = c.clientId;
            g.redirectUri = c.redirectUri;
            HttpResponse<String> grace = attempt(g, openForm(g), "grace", PASSWORD);
            assertEquals(303, grace.statusCode(), grace.body());

            // 5. a successful sign-in clears the user's count: alice can mistype again right away
            OAuthClientSim again = new OAuthClientSim(s);
            again.clientId = c.clientId;
            again.redirectUri = c.redirectUri;
            Map<String, String> f2 = openForm(again);
            assertEquals(401, attempt(again, f2, "alice", "typo").statusCode());
            HttpResponse<String> in = attempt(again, f2, "alice", PASSWORD);
            assertEquals(303, in.statusCode());
            assertFalse(in.headers().firstValue("Location").orElse("").isEmpty());
            // and the flow completes
            HttpResponse<String> consent = again.browserGet(s.url + in.headers().firstValue("Location").orElseThrow());
            Map<String, String> d = OAuthClientSim.hiddenFields(consent.body());
            d.put("decision", "allow");
            assertNotNull(redirectTo(again.browserPost("/consent", d), 303, again.redirectUri).get("code"));
        }
    }

    /** POST /login from {@code c}'s browser as if relayed by a proxy for {@code clientIp}. */
    static HttpResponse<String> attemptVia(OAuthClientSim c, Map<String, String> form, String clientIp, String user, String password) {
        Map<String, String> f = new java.util.LinkedHashMap<>(form);
        f.put("username", user);
        f.put("password", password);
        java.net.http.HttpRequest.Builder b = c.server.request("/login").header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Forwarded-For", clientIp).POST(java.net.http.HttpRequest.BodyPublishers.ofString(TestServer.form(f)));
        if (c.cookie != null) b.header("Cookie", c.cookie);
        return c.server.send(b);
    }

    @Test
    void behindATrustedProxyTheAddressLimitIsPerClientNotPerProxy() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of("TRUSTED_PROXIES", "127.0.0.1"), clock)) {
            List<String> names = List.of("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "alice");
            for (String u : names) OAuthClientSim.addUser(s, u, PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            Map<String, String> form = openForm(c);
            // one client behind the proxy guesses until its address is refused (a few tries per name, under the per-user limit)
            HttpResponse<String> r = null;
            int tries = 0;
            outer:
            for (int round = 0; round < 5; round++) {
                for (String u : names.subList(0, 8)) {
                    r = attemptVia(c, form, "203.0.113.5", u, "wrong password");
                    tries++;
                    if (r.statusCode() == 429) break outer;
                    assertEquals(401, r.statusCode(), r.body());
                }
            }
            assertNotNull(r);
            assertEquals(429, r.statusCode(), "no address limit after " + tries + " guesses");
            // another client behind the same proxy still signs in
            OAuthClientSim other = new OAuthClientSim(s);
            other.clientId = c.clientId;
            other.redirectUri = c.redirectUri;
            HttpResponse<String> ok = attemptVia(other, openForm(other), "198.51.100.7", "alice", PASSWORD);
            assertEquals(303, ok.statusCode(), "a different client behind the proxy is locked out: " + ok.body());
        }
        // without TRUSTED_PROXIES the header is ignored: rotating it does not escape the limit
        try (TestServer s = TestServer.start(dir.resolve("2"), Map.of(), clock)) {
            List<String> names = List.of("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8");
            for (String u : names) OAuthClientSim.addUser(s, u, PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            Map<String, String> form = openForm(c);
            HttpResponse<String> r = null;
            int n = 0;
            outer:
            for (int round = 0; round < 5; round++) {
                for (String u : names) {
                    r = attemptVia(c, form, "192.0.2." + (n++ % 250 + 1), u, "wrong password");
                    if (r.statusCode() == 429) break outer;
                }
            }
            assertEquals(429, r.statusCode(), "a spoofed X-Forwarded-For escaped the address limit");
        }
    }
}
