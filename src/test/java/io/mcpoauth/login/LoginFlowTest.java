package io.mcpoauth.login;

import static io.mcpoauth.login.PageAsserts.redirectTo;
import static io.mcpoauth.login.PageAsserts.securityHeaders;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.http.OAuthError;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sign-in and consent pages over real HTTP: security headers, CSRF and open forms, single-use consent, deny,
 * 303 after every POST and a new session id at sign-in.
 */
class LoginFlowTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    static Path dir;
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start(dir);
        OAuthClientSim.addUser(s, "alice", PASSWORD);
        OAuthClientSim.addUser(s, "bob", PASSWORD);
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static OAuthClientSim client() {
        OAuthClientSim c = new OAuthClientSim(s);
        c.registerDirect();
        return c;
    }

    /** A browser of an existing client: own cookie jar, same client_id. */
    static OAuthClientSim browserOf(OAuthClientSim c) {
        OAuthClientSim b = new OAuthClientSim(s);
        b.clientId = c.clientId;
        b.redirectUri = c.redirectUri;
        return b;
    }

    static Map<String, String> login(HttpResponse<String> loginPage, String user) {
        assertEquals(200, loginPage.statusCode(), loginPage.body());
        assertTrue(loginPage.body().contains("name=\"password\""), loginPage.body());
        Map<String, String> f = OAuthClientSim.hiddenFields(loginPage.body());
        f.put("username", user);
        f.put("password", PASSWORD);
        return f;
    }

    static Map<String, String> decision(HttpResponse<String> consentPage, String decision) {
        assertEquals(200, consentPage.statusCode(), consentPage.body());
        assertTrue(consentPage.body().contains("name=\"decision\""), consentPage.body());
        Map<String, String> f = OAuthClientSim.hiddenFields(consentPage.body());
        f.put("decision", decision);
        return f;
    }

    /** Follows a 303 from POST /login to the consent page (GET, same browser). */
    static HttpResponse<String> followToConsent(OAuthClientSim b, HttpResponse<String> afterLogin) {
        assertEquals(303, afterLogin.statusCode(), "POST /login must answer 303: " + afterLogin.statusCode() + " " + afterLogin.body());
        String loc = afterLogin.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith("/consent?") || loc.startsWith(s.url + "/consent?"), loc);
        HttpResponse<String> page = b.browserGet(loc.startsWith("/") ? s.url + loc : loc);
        securityHeaders(page);
        return page;
    }

    static void refusedWithoutCode(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Location").isEmpty());
        assertFalse(r.body().contains("code="), r.body());
        securityHeaders(r);
    }

    @Test
    void everyPageCarriesTheAntiFramingAndNoStoreHeaders() {
        OAuthClientSim c = client();
        HttpResponse<String> loginPage = c.browserGet(c.authorizeUrl(Map.of()));
        securityHeaders(loginPage);
        Map<String, String> wrong = login(loginPage, "alice");
        wrong.put("password", "wrong password here");
        HttpResponse<String> wrongPage = c.browserPost("/login", wrong);
        assertEquals(401, wrongPage.statusCode());
        securityHeaders(wrongPage);
        Map<String, String> empty = new LinkedHashMap<>(wrong);
        empty.remove("password");
        HttpResponse<String> emptyPage = c.browserPost("/login", empty);
        assertEquals(400, emptyPage.statusCode());
        securityHeaders(emptyPage);
        HttpResponse<String> consent = followToConsent(c, c.browserPost("/login", login(loginPage, "alice")));
        securityHeaders(consent);
        // error pages: unknown client, expired transaction, forbidden, malformed and repeated form fields, no decision
        securityHeaders(s.get("/authorize?client_id=nope"));
        securityHeaders(s.get("/authorize"));
        securityHeaders(c.browserPost("/login", Map.of("txn", "unknown", "csrf", "x")));
        securityHeaders(c.browserGet(s.url + "/consent?txn=unknown"));
        securityHeaders(c.browserPost("/consent", Map.of("txn", "unknown", "csrf", "x", "decision", "allow")));
        Map<String, String> f = decision(consent, "maybe");
        HttpResponse<String> noDecision = c.browserPost("/consent", f);
        assertEquals(400, noDecision.statusCode());
        securityHeaders(noDecision);
        HttpResponse<String> repeated = s.send(s.request("/consent").header("Content-Type", "application/x-www-form-urlencoded")
                .header("Cookie", c.cookie).POST(java.net.http.HttpRequest.BodyPublishers.ofString("txn=a&txn=b")));
        assertEquals(400, repeated.statusCode());
        securityHeaders(repeated);
        HttpResponse<String> badEscape = s.send(s.request("/login").header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("txn=%zz")));
        assertEquals(400, badEscape.statusCode());
        securityHeaders(badEscape);
        HttpResponse<String> notAForm = s.send(s.request("/login").header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")));
        assertEquals(400, notAForm.statusCode());
        securityHeaders(notAForm);
    }

    @Test
    void loginPostWithoutTheRightCsrfIsForbidden() {
        OAuthClientSim c = client();
        HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
        Map<String, String> good = login(page, "alice");

        Map<String, String> missing = new HashMap<>(good);
        missing.remove("csrf");
        refusedWithoutCode(c.browserPost("/login", missing), 403);
        Map<String, String> wrong = new HashMap<>(good);
        wrong.put("csrf", good.get("csrf") + "x");
        refusedWithoutCode(c.browserPost("/login", wrong), 403);
        wrong.put("csrf", "");
        refusedWithoutCode(c.browserPost("/login", wrong), 403);

        // another browser's csrf and txn with this browser's cookie, and this form without any cookie
        OAuthClientSim other = browserOf(c);
        Map<String, String> othersForm = login(other.browserGet(other.authorizeUrl(Map.of())), "alice");
        refusedWithoutCode(c.browserPost("/login", othersForm), 403);
        OAuthClientSim noCookie = browserOf(c);
        refusedWithoutCode(noCookie.browserPost("/login", good), 403);
        // mixing: this browser's txn with the other's csrf
        Map<String, String> mixed = new HashMap<>(good);
        mixed.put("csrf", othersForm.get("csrf"));
        refusedWithoutCode(c.browserPost("/login", mixed), 403);

        // none of that broke the real form
        HttpResponse<String> consent = followToConsent(c, c.browserPost("/login", good));
        HttpResponse<String> done = c.browserPost("/consent", decision(consent, "allow"));
        assertNotNull(redirectTo(done, 303, c.redirectUri).get("code"));
    }

    @Test
    void consentPostWithoutTheRightCsrfIsForbidden() {
        OAuthClientSim c = client();
        HttpResponse<String> consent = followToConsent(c, c.browserPost("/login", login(c.browserGet(c.authorizeUrl(Map.of())), "alice")));
        Map<String, String> good = decision(consent, "allow");

        Map<String, String> missing = new HashMap<>(good);
        missing.remove("csrf");
        refusedWithoutCode(c.browserPost("/consent", missing), 403);
        Map<String, String> wrong = new HashMap<>(good);
        wrong.put("csrf", "A".repeat(43));
        refusedWithoutCode(c.browserPost("/consent", wrong), 403);

        // the same form fields posted from another browser that is signed in as someone else
        OAuthClientSim bob = browserOf(c);
        HttpResponse<String> bobsConsent = followToConsent(bob, bob.browserPost("/login", login(bob.browserGet(bob.authorizeUrl(Map.of())), "bob")));
        refusedWithoutCode(bob.browserPost("/consent", good), 403);
        // and the other way round: alice's cookie with bob's form
        refusedWithoutCode(c.browserPost("/consent", decision(bobsConsent, "allow")), 403);
        // and with no cookie at all
        refusedWithoutCode(browserOf(c).browserPost("/consent", good), 403);
        // GET /consent from another browser is forbidden too
        String consentUrl = s.url + "/consent?txn=" + TestServer.enc(good.get("txn"));
        refusedWithoutCode(bob.browserGet(consentUrl), 403);

        // the real form still works, for the right user
        Map<String, String> back = redirectTo(c.browserPost("/consent", good), 303, c.redirectUri);
        HttpResponse<String> t = c.exchange(back.get("code"));
        assertEquals(200, t.statusCode(), t.body());
        assertEquals("alice", s.server.bearer.authenticate(TestServer.json(t).get("access_token").asText()).username());
        // and bob's form still works for bob
        Map<String, String> bobBack = redirectTo(bob.browserPost("/consent", decision(bobsConsent, "allow")), 303, bob.redirectUri);
        HttpResponse<String> bt = bob.exchange(bobBack.get("code"));
        assertEquals("bob", s.server.bearer.authenticate(TestServer.json(bt).get("access_token").asText()).username());
    }

    @Test
    void twoTabsBothLoginFormsWorkIndependently() {
        OAuthClientSim c = client();
        String url1 = c.authorizeUrl(Map.of());
        String verifier1 = c.verifier;
        String state1 = c.state;
        HttpResponse<String> tab1 = c.browserGet(url1);
        String url2 = c.authorizeUrl(Map.of());
        String verifier2 = c.verifier;
        String state2 = c.state;
        HttpResponse<String> tab2 = c.browserGet(url2);
        Map<String, String> form1 = login(tab1, "alice");
        Map<String, String> form2 = login(tab2, "alice");
        assertNotEquals(form1.get("txn"), form2.get("txn"));

        // tab 1 first: sign in, consent
        HttpResponse<String> consent1 = followToConsent(c, c.browserPost("/login", form1));
        Map<String, String> back1 = redirectTo(c.browserPost("/consent", decision(consent1, "allow")), 303, c.redirectUri);
        assertEquals(state1, back1.get("state"));

        // tab 2 afterwards: its form was opened before the sign-in rotated the session, and must still work
        HttpResponse<String> afterLogin2 = c.browserPost("/login", form2);
        Map<String, String> back2;
        if (afterLogin2.headers().firstValue("Location").orElse("").startsWith(c.redirectUri)) {
            back2 = redirectTo(afterLogin2, 303, c.redirectUri); // consent remembered from tab 1
        } else {
            back2 = redirectTo(c.browserPost("/consent", decision(followToConsent(c, afterLogin2), "allow")), 303, c.redirectUri);
        }
        assertEquals(state2, back2.get("state"));

        c.verifier = verifier1;
        assertEquals(200, c.exchange(back1.get("code")).statusCode());
        c.verifier = verifier2;
        assertEquals(200, c.exchange(back2.get("code")).statusCode());
    }

    @Test
    void twoTabsTheSecondSubmittedFirstBothFinish() {
        OAuthClientSim c = client();
        HttpResponse<String> tab1 = c.browserGet(c.authorizeUrl(Map.of()));
        HttpResponse<String> tab2 = c.browserGet(c.authorizeUrl(Map.of()));
        String state2 = c.state;
        Map<String, String> form1 = login(tab1, "alice");
        HttpResponse<String> consent2 = followToConsent(c, c.browserPost("/login", login(tab2, "alice")));
        // tab 1 is signed in too now, with the same password form
        HttpResponse<String> afterLogin1 = c.browserPost("/login", form1);
        HttpResponse<String> consent1 = followToConsent(c, afterLogin1);
        // both consent forms are open at once and each works
        assertEquals(state2, redirectTo(c.browserPost("/consent", decision(consent2, "allow")), 303, c.redirectUri).get("state"));
        assertNotNull(redirectTo(c.browserPost("/consent", decision(consent1, "allow")), 303, c.redirectUri).get("code"));
    }

    @Test
    void reloadingTheConsentPageKeepsTheSameFormValid() {
        OAuthClientSim c = client();
        HttpResponse<String> afterLogin = c.browserPost("/login", login(c.browserGet(c.authorizeUrl(Map.of())), "alice"));
        HttpResponse<String> first = followToConsent(c, afterLogin);
        HttpResponse<String> again = c.browserGet(s.url + afterLogin.headers().firstValue("Location").orElseThrow().replaceFirst("^" + java.util.regex.Pattern.quote(s.url), ""));
        assertEquals(200, again.statusCode(), again.body());
        assertEquals(OAuthClientSim.hiddenFields(first.body()), OAuthClientSim.hiddenFields(again.body()));
        assertNotNull(redirectTo(c.browserPost("/consent", decision(first, "allow")), 303, c.redirectUri).get("code"));
        // a new GET /authorize in the same browser (already signed in) does not break an open consent form either
        OAuthClientSim d = client();
        d.cookie = c.cookie;
        HttpResponse<String> consentD = d.browserGet(d.authorizeUrl(Map.of()));
        HttpResponse<String> consentD2 = d.browserGet(d.authorizeUrl(Map.of()));
        assertNotNull(redirectTo(d.browserPost("/consent", decision(consentD, "allow")), 303, d.redirectUri).get("code"));
        // the second one is remembered now: its form still works as well (nothing new to approve)
        assertNotNull(redirectTo(d.browserPost("/consent", decision(consentD2, "allow")), 303, d.redirectUri).get("code"));
    }

    @Test
    void consentSubmittedTwiceSecondFails() {
        OAuthClientSim c = client();
        HttpResponse<String> consent = followToConsent(c, c.browserPost("/login", login(c.browserGet(c.authorizeUrl(Map.of())), "alice")));
        Map<String, String> f = decision(consent, "allow");
        assertNotNull(redirectTo(c.browserPost("/consent", f), 303, c.redirectUri).get("code"));
        refusedWithoutCode(c.browserPost("/consent", f), 400);
        f.put("decision", "deny");
        refusedWithoutCode(c.browserPost("/consent", f), 400);
        // a denied form cannot be allowed afterwards either
        OAuthClientSim d = client();
        HttpResponse<String> consentD = followToConsent(d, d.browserPost("/login", login(d.browserGet(d.authorizeUrl(Map.of())), "alice")));
        Map<String, String> fd = decision(consentD, "deny");
        assertEquals(OAuthError.ACCESS_DENIED, redirectTo(d.browserPost("/consent", fd), 303, d.redirectUri).get("error"));
        fd.put("decision", "allow");
        refusedWithoutCode(d.browserPost("/consent", fd), 400);
        // the login form of a completed transaction is dead too
        refusedWithoutCode(d.browserGet(s.url + "/consent?txn=" + TestServer.enc(fd.get("txn"))), 400);
    }

    @Test
    void denyReturnsAccessDeniedWithTheClientsStateAndIss() {
        OAuthClientSim c = client();
        Map<String, String> back = c.authorize("alice", PASSWORD, "deny");
        assertEquals(OAuthError.ACCESS_DENIED, back.get("error"));
        assertEquals(c.state, back.get("state"));
        assertEquals(s.url, back.get("iss"));
        assertNull(back.get("code"));
        assertNotNull(back.get("error_description"));
        // deny is not remembered: the next authorization asks again
        OAuthClientSim again = browserOf(c);
        again.cookie = c.cookie;
        Map<String, String> second = again.authorize("alice", PASSWORD, "allow");
        assertEquals(1, again.consentPages);
        assertNotNull(second.get("code"));
    }

    @Test
    void everyRedirectAfterAPostIs303() {
        OAuthClientSim c = client();
        HttpResponse<String> afterLogin = c.browserPost("/login", login(c.browserGet(c.authorizeUrl(Map.of())), "alice"));
        assertEquals(303, afterLogin.statusCode());
        HttpResponse<String> allow = c.browserPost("/consent", decision(followToConsent(c, afterLogin), "allow"));
        assertEquals(303, allow.statusCode());
        // consent already remembered: POST /login goes straight to the client, still with 303
        OAuthClientSim fresh = browserOf(c);
        HttpResponse<String> direct = fresh.browserPost("/login", login(fresh.browserGet(fresh.authorizeUrl(Map.of())), "alice"));
        assertNotNull(redirectTo(direct, 303, c.redirectUri).get("code"));
        // deny
        OAuthClientSim d = client();
        HttpResponse<String> deny = d.browserPost("/consent", decision(followToConsent(d,
                d.browserPost("/login", login(d.browserGet(d.authorizeUrl(Map.of())), "alice"))), "deny"));
        assertEquals(303, deny.statusCode());
        assertEquals("no-store", deny.headers().firstValue("Cache-Control").orElse(null));
    }

    @Test
    void signInIssuesANewSessionIdAndTheOldOneIsNotSignedIn() {
        OAuthClientSim c = client();
        HttpResponse<String> page = c.browserGet(c.authorizeUrl(Map.of()));
        String before = c.cookie;
        assertNotNull(before, "the login page sets a session cookie");
        String setCookie = page.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/"), setCookie);
        HttpResponse<String> afterLogin = c.browserPost("/login", login(page, "alice"));
        String after = c.cookie;
        assertTrue(afterLogin.headers().firstValue("Set-Cookie").isPresent(), "sign-in sets a new cookie");
        assertEquals(before.substring(0, before.indexOf('=')), after.substring(0, after.indexOf('=')));
        assertNotEquals(before, after);

        // a browser holding the old id (the attacker who planted it) is not signed in
        OAuthClientSim attacker = browserOf(c);
        attacker.cookie = before;
        HttpResponse<String> attackerPage = attacker.browserGet(attacker.authorizeUrl(Map.of()));
        assertEquals(200, attackerPage.statusCode());
        assertTrue(attackerPage.body().contains("name=\"password\""), "old session id still signed in");
        assertNotEquals(before, attacker.cookie, "an unknown session id is replaced, not adopted");
        // nor can it use the consent page of the signed-in transaction
        String loc = afterLogin.headers().firstValue("Location").orElseThrow();
        refusedWithoutCode(attacker.browserGet(loc.startsWith("/") ? s.url + loc : loc), 403);
        OAuthClientSim planted = browserOf(c);
        planted.cookie = before;
        refusedWithoutCode(planted.browserGet(loc.startsWith("/") ? s.url + loc : loc), 403);

        // the new id is signed in: a new authorization skips the password
        OAuthClientSim same = browserOf(c);
        same.cookie = after;
        HttpResponse<String> r = same.browserGet(same.authorizeUrl(Map.of()));
        assertFalse(r.body().contains("name=\"password\""));
    }

    @Test
    void onAnHttpsPublicUrlTheCookieIsHostPrefixedAndSecure() {
        int port = TestServer.freePort();
        try (TestServer h = TestServer.start(dir.resolve("https"), Map.of("PORT", String.valueOf(port), "PUBLIC_URL", "https://mcp.example.test"))) {
            OAuthClientSim.addUser(h, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(h);
            c.registerDirect();
            String url = c.authorizeUrl(Map.of()).replace("https://mcp.example.test", "http://127.0.0.1:" + port);
            HttpResponse<String> page = c.browserGet(url);
            assertEquals(200, page.statusCode(), page.body());
            String setCookie = page.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(setCookie.startsWith("__Host-mcp_session="), setCookie);
            assertTrue(setCookie.contains("; Secure") && setCookie.contains("; Path=/") && setCookie.contains("HttpOnly"), setCookie);
            assertFalse(setCookie.toLowerCase().contains("domain="), setCookie);
            String before = c.cookie;
            Map<String, String> f = login(page, "alice");
            HttpResponse<String> after = c.browserPost("http://127.0.0.1:" + port + "/login", f);
            assertEquals(303, after.statusCode(), after.body());
            String renewed = after.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(renewed.startsWith("__Host-mcp_session=") && renewed.contains("; Secure"), renewed);
            assertNotEquals(before, renewed.substring(0, renewed.indexOf(';')));
        }
    }

    @Test
    void aTypedUserNameIsEscapedWhenTheLoginPageIsShownAgain() {
        OAuthClientSim c = client();
        Map<String, String> f = login(c.browserGet(c.authorizeUrl(Map.of())), "alice");
        f.put("username", "\"><script>alert(1)</script>\u202E");
        f.put("password", "wrong password here");
        HttpResponse<String> r = c.browserPost("/login", f);
        assertEquals(401, r.statusCode());
        assertFalse(r.body().contains("<script>alert(1)"), r.body());
        assertFalse(r.body().contains("\u202E"), r.body());
        assertTrue(r.body().contains("&quot;&gt;&lt;script&gt;"), r.body());
        securityHeaders(r);
    }
}
