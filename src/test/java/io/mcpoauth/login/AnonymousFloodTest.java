package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anonymous {@code GET /authorize} requests (no cookie) must not exhaust the browser
 * session and pending-authorization pools. The pools are made small (MAX_BROWSER_SESSIONS=50) so that a flood of a
 * few hundred requests stands for 100,000; addresses come through a trusted proxy.
 */
class AnonymousFloodTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    static HttpResponse<String> anonymous(TestServer s, OAuthClientSim c, String address) {
        return s.send(s.request(c.authorizeUrl(Map.of())).header("X-Forwarded-For", address).GET());
    }

    @Test
    void aFloodOfAnonymousVisitorsNeitherRefusesNewBrowsersNorSignedInUsers() {
        try (TestServer s = TestServer.start(dir, Map.of("MAX_BROWSER_SESSIONS", "50", "TRUSTED_PROXIES", "127.0.0.1"))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim alice = new OAuthClientSim(s);
            alice.registerDirect();
            // alice signs in and allows the client once: her browser holds a signed-in session
            assertTrue(alice.authorize("alice", PASSWORD, "allow").containsKey("code"));

            int refused = 0;
            for (int i = 0; i < 500; i++) {
                HttpResponse<String> r = anonymous(s, alice, "198.51.100." + (i % 50 + 1));
                if (r.statusCode() != 200) refused++;
            }
            assertEquals(0, refused, "anonymous visitors were refused once the pools were full");

            // a new browser still gets the sign-in page
            OAuthClientSim stranger = new OAuthClientSim(s);
            stranger.clientId = alice.clientId;
            HttpResponse<String> page = stranger.browserGet(stranger.authorizeUrl(Map.of()));
            assertEquals(200, page.statusCode(), page.body());
            assertTrue(page.body().contains("name=\"password\""));

            // alice's session survived the flood: she goes straight back to the client with a code, no sign-in page
            int loginPages = alice.loginPages;
            Map<String, String> back = alice.authorize("alice", "not needed", "allow");
            assertTrue(back.containsKey("code"), String.valueOf(back));
            assertEquals(loginPages, alice.loginPages, "alice had to sign in again: her session was evicted by strangers");
        }
    }

    @Test
    void anAnonymousSessionIsShortLivedAndOneAddressHoldsAFewOnly() {
        try (TestServer s = TestServer.start(dir, Map.of("TRUSTED_PROXIES", "127.0.0.1"))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            HttpResponse<String> first = s.send(s.request(c.authorizeUrl(Map.of())).header("X-Forwarded-For", "2001:db8:1:2::1").GET());
            assertEquals(200, first.statusCode());
            String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(setCookie.contains("Max-Age=" + BrowserSessions.ANONYMOUS_TTL.toSeconds() + ";"), setCookie);
            assertTrue(BrowserSessions.ANONYMOUS_TTL.toMinutes() <= 30, "minutes, not hours");
            c.cookie = setCookie.substring(0, setCookie.indexOf(';'));
            Map<String, String> form = OAuthClientSim.hiddenFields(first.body());

            // the same /64 (other /128s) opens more anonymous sessions than its cap: the oldest, the first one, goes
            for (int i = 0; i < BrowserSessions.ANONYMOUS_PER_ADDRESS; i++) {
                assertEquals(200, s.send(s.request(c.authorizeUrl(Map.of())).header("X-Forwarded-For", "2001:db8:1:2::" + Integer.toHexString(i + 2)).GET())
                        .statusCode());
            }
            form.put("username", "alice");
            form.put("password", PASSWORD);
            HttpResponse<String> late = c.browserPost("/login", form);
            assertNotEquals(303, late.statusCode(), "the first anonymous session of that /64 should have made room");

            // another network is not affected: its browser signs in
            OAuthClientSim other = new OAuthClientSim(s);
            other.clientId = c.clientId;
            assertTrue(other.authorize("alice", PASSWORD, "allow").containsKey("code"));
        }
    }
}
