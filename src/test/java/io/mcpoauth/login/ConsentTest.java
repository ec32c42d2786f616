package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Remembered consent per user, client and scopes; hostile client names on the pages. */
class ConsentTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    /** A browser (cookie jar) for client {@code c}. */
    static OAuthClientSim browser(TestServer s, OAuthClientSim c, String cookie) {
        OAuthClientSim b = new OAuthClientSim(s);
        b.clientId = c.clientId;
        b.redirectUri = c.redirectUri;
        b.cookie = cookie;
        return b;
    }

    /** Authorizes with {@code scope} in browser {@code b}; returns the redirect query and counts pages in {@code b}. */
    static Map<String, String> authorize(OAuthClientSim b, String user, String scope) {
        HttpResponse<String> r = b.browserGet(b.authorizeUrl(scope == null ? Map.of() : Map.of("scope", scope)));
        for (int hops = 0; hops < 10; hops++) {
            if (r.statusCode() == 302 || r.statusCode() == 303) {
                String loc = r.headers().firstValue("Location").orElseThrow();
                if (loc.startsWith(b.redirectUri)) return OAuthClientSim.query(loc);
                r = b.browserGet(loc.startsWith("/") ? b.server.url + loc : loc);
                continue;
            }
            assertEquals(200, r.statusCode(), r.body());
            Map<String, String> f = OAuthClientSim.hiddenFields(r.body());
            if (r.body().contains("name=\"password\"")) {
                b.loginPages++;
                f.put("username", user);
                f.put("password", PASSWORD);
                r = b.browserPost("/login", f);
            } else {
                b.consentPages++;
                f.put("decision", "allow");
                r = b.browserPost("/consent", f);
            }
        }
        throw new AssertionError("too many hops");
    }

    @Test
    void consentIsPerClientAndPerUser() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim.addUser(s, "bob", PASSWORD);
            OAuthClientSim a = new OAuthClientSim(s);
            a.registerDirect();
            OAuthClientSim bClient = new OAuthClientSim(s);
            bClient.registerDirect();

            OAuthClientSim browserA = browser(s, a, null);
            assertNotNull(authorize(browserA, "alice", null).get("code"));
            assertEquals(1, browserA.loginPages);
            assertEquals(1, browserA.consentPages);

            // same user, same client, new browser: sign in again, but no second consent
            OAuthClientSim again = browser(s, a, null);
            assertNotNull(authorize(again, "alice", null).get("code"));
            assertEquals(1, again.loginPages);
            assertEquals(0, again.consentPages);
            // same browser, signed in: neither page
            OAuthClientSim signedIn = browser(s, a, again.cookie);
            assertNotNull(authorize(signedIn, "alice", null).get("code"));
            assertEquals(0, signedIn.loginPages + signedIn.consentPages);

            // client B in the same signed-in browser: asked
            OAuthClientSim toB = browser(s, bClient, again.cookie);
            assertNotNull(authorize(toB, "alice", null).get("code"));
            assertEquals(0, toB.loginPages);
            assertEquals(1, toB.consentPages);

            // another user of client A: asked
            OAuthClientSim bob = browser(s, a, null);
            assertNotNull(authorize(bob, "bob", null).get("code"));
            assertEquals(1, bob.consentPages);

            // denying client B for bob does not touch alice's consent for B
            OAuthClientSim bobToB = browser(s, bClient, bob.cookie);
            HttpResponse<String> page = bobToB.browserGet(bobToB.authorizeUrl(Map.of()));
            Map<String, String> f = OAuthClientSim.hiddenFields(page.body());
            f.put("decision", "deny");
            assertEquals(OAuthError.ACCESS_DENIED, OAuthClientSim.query(bobToB.browserPost("/consent", f).headers().firstValue("Location").orElseThrow()).get("error"));
            OAuthClientSim aliceToB = browser(s, bClient, again.cookie);
            authorize(aliceToB, "alice", null);
            assertEquals(0, aliceToB.consentPages);
        }
    }

    @Test
    void consentIsAskedAgainWhenScopesWidenAndRememberedAcrossARestart() {
        Map<String, String> env = Map.of("OAUTH_SCOPES", "mcp extra", "PORT", String.valueOf(TestServer.freePort()));
        String clientId;
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim a = new OAuthClientSim(s);
            a.registerDirect();
            clientId = a.clientId;
            OAuthClientSim b = browser(s, a, null);
            authorize(b, "alice", "mcp");
            assertEquals(1, b.consentPages);
            // wider: asked, and the page names the new scope
            HttpResponse<String> wider = b.browserGet(b.authorizeUrl(Map.of("scope", "mcp extra")));
            assertEquals(200, wider.statusCode());
            assertTrue(wider.body().contains("name=\"decision\""), "wider scopes must ask again");
            assertTrue(wider.body().contains("<code>extra</code>"), wider.body());
            OAuthClientSim b2 = browser(s, a, b.cookie);
            Map<String, String> back = authorize(b2, "alice", "mcp extra");
            assertEquals(1, b2.consentPages);
            HttpResponse<String> t = b2.exchange(back.get("code"));
            assertEquals(java.util.Set.of("mcp", "extra"), io.mcpoauth.oauth.Scopes.parse(TestServer.json(t).get("scope").asText()));
            // narrower or equal: not asked
            for (String sc : new String[] {"extra", "mcp", "extra mcp", null}) {
                OAuthClientSim b3 = browser(s, a, b.cookie);
                assertNotNull(authorize(b3, "alice", sc).get("code"));
                assertEquals(0, b3.consentPages, "scope " + sc);
            }
        }
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim a = new OAuthClientSim(s);
            a.clientId = clientId;
            OAuthClientSim b = browser(s, a, null);
            assertNotNull(authorize(b, "alice", "mcp extra").get("code"));
            assertEquals(1, b.loginPages);
            assertEquals(0, b.consentPages, "consent is remembered in consents.json across a restart");
        }
    }

    @Test
    void hostileClientNameIsEscapedAndTheRedirectHostIsShown() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            String hostile = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>Good\u202Eppa.evil\u2066x\u2069\u200F\u0007\u0000\u001b[31m\u2028end";
            OAuthClientSim c = new OAuthClientSim(s);
            c.clientId = Secrets.mint(Secrets.CLIENT_ID);
            c.redirectUri = "https://app.example.com/oauth/cb";
            s.server.clients.put(new ClientRecord(c.clientId, hostile, List.of(c.redirectUri), List.of("authorization_code", "refresh_token"),
                    List.of("code"), "none", null, null, null, null, Instant.now(), null, null, null));

            HttpResponse<String> login = c.browserGet(c.authorizeUrl(Map.of()));
            assertEquals(200, login.statusCode());
            assertSafe(login.body());
            Map<String, String> f = OAuthClientSim.hiddenFields(login.body());
            f.put("username", "alice");
            f.put("password", PASSWORD);
            HttpResponse<String> after = c.browserPost("/login", f);
            HttpResponse<String> consent = c.browserGet(s.url + after.headers().firstValue("Location").orElseThrow());
            assertEquals(200, consent.statusCode());
            String body = consent.body();
            assertSafe(body);
            assertTrue(body.contains("&lt;script&gt;alert(1)&lt;&#47;script&gt;"), "the name is shown escaped");
            assertTrue(body.contains("<strong>app.example.com</strong>"), "the redirect host is shown in bold: " + body);
            assertTrue(body.contains("not been verified"));
        }
    }

    /** No markup from the name, and no invisible direction or control characters at all. */
    static void assertSafe(String body) {
        assertFalse(body.contains("<script>"), body);
        assertFalse(body.contains("<img"), body);
        assertFalse(body.contains("onerror=alert"), body);
        for (int i = 0; i < body.length(); i++) {
            char ch = body.charAt(i);
            boolean bad = (Character.isISOControl(ch) && ch != '\n') || (ch >= '\u202A' && ch <= '\u202E')
                    || (ch >= '\u2066' && ch <= '\u2069') || ch == '\u200E' || ch == '\u200F' || ch == '\u061C'
                    || ch == '\u2028' || ch == '\u2029';
            assertFalse(bad, String.format("the page contains U+%04X at %d", (int) ch, i));
        }
    }

    @Test
    void registrationRefusesControlAndDirectionCharactersInTheName() {
        try (TestServer s = TestServer.start(dir)) {
            for (String name : new String[] {"Good\u202Eevil", "a\u0007b", "a\u2066b", "line\nbreak", "a\u200Fb"}) {
                String json = "{\"client_name\":" + io.mcpoauth.core.Json.MAPPER.valueToTree(name) + ",\"redirect_uris\":[\"https://app.example.com/cb\"],"
                        + "\"token_endpoint_auth_method\":\"none\"}";
                HttpResponse<String> r = s.postJson("/register", json);
                assertEquals(400, r.statusCode(), name + ": " + r.body());
                assertEquals(OAuthError.INVALID_CLIENT_METADATA, TestServer.json(r).get("error").asText());
            }
        }
    }
}
