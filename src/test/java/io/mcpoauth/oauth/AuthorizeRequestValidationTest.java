package io.mcpoauth.oauth;

import static io.mcpoauth.login.PageAsserts.errorRedirect;
import static io.mcpoauth.login.PageAsserts.noRedirect;
import static io.mcpoauth.login.PageAsserts.redirectTo;
import static io.mcpoauth.login.PageAsserts.securityHeaders;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.http.OAuthError;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /authorize} request validation over real HTTP: what {@code GET /authorize} refuses with a page (never a
 * redirect), what it sends back to the client's validated redirect URI (always with {@code iss}), and what it accepts.
 */
class AuthorizeRequestValidationTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    static Path dir;
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start(dir);
        OAuthClientSim.addUser(s, "alice", PASSWORD);
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    private static OAuthClientSim client(String... redirectUris) {
        OAuthClientSim c = new OAuthClientSim(s);
        c.registerDirect(redirectUris);
        return c;
    }

    private static HttpResponse<String> get(String url) {
        return s.get(url);
    }

    /** A valid request that reached the sign-in page. */
    private static void assertLoginPage(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("name=\"password\""), r.body());
        securityHeaders(r);
    }

    /** A raw query built from alternating names and values (each percent-encoded; repeats kept). */
    private static String raw(String... kv) {
        StringBuilder b = new StringBuilder(s.url + "/authorize?");
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) b.append('&');
            b.append(TestServer.enc(kv[i])).append('=').append(TestServer.enc(kv[i + 1]));
        }
        return b.toString();
    }

    private static Map<String, String> with(String k, String v) {
        Map<String, String> m = new HashMap<>();
        m.put(k, v);
        return m;
    }

    @Test
    void unknownMissingOrEmptyClientIdIsAPageNotARedirect() {
        OAuthClientSim c = client();
        noRedirect(get(c.authorizeUrl(with("client_id", "mcpc_unknown"))), c.redirectUri);
        noRedirect(get(c.authorizeUrl(with("client_id", null))), c.redirectUri);
        noRedirect(get(c.authorizeUrl(with("client_id", ""))), c.redirectUri);
        // even an otherwise broken request is a page when the client is unknown (client first, then the rest)
        Map<String, String> bad = with("client_id", "nope");
        bad.put("response_type", "token");
        noRedirect(get(c.authorizeUrl(bad)), c.redirectUri);
    }

    @Test
    void unregisteredRedirectUriIsAPage() {
        OAuthClientSim c = client();
        String evil = "https://evil.example/callback";
        noRedirect(get(c.authorizeUrl(with("redirect_uri", evil))), evil);
        // a redirect URI registered by another client does not count
        OAuthClientSim other = client("https://other.example/cb");
        noRedirect(get(c.authorizeUrl(with("redirect_uri", other.redirectUri))), other.redirectUri);
    }

    @Test
    void anyDifferenceFromTheRegisteredHttpsUriIsAPage() {
        String registered = "https://app.example.com/cb/x";
        OAuthClientSim c = client(registered);
        assertLoginPage(get(c.authorizeUrl(Map.of())));
        for (String variant : List.of(
                "https://app.example.com/cb/x/",
                "https://app.example.com/cb/x//",
                "https://APP.example.com/cb/x",
                "https://app.example.com/CB/x",
                "HTTPS://app.example.com/cb/x",
                "https://app.example.com/cb/x?",
                "https://app.example.com/cb/x?extra=1",
                "https://app.example.com/cb%2Fx",
                "https://app.example.com/cb/%78",
                "https://app.example.com:443/cb/x",
                "https://app.example.com./cb/x",
                "https://app.example.com/cb/x/../x",
                "https://app.example.com/cb/x ",
                "http://app.example.com/cb/x",
                "https://user@app.example.com/cb/x",
                "https://app.example.com@evil.example/cb/x")) {
            noRedirect(get(c.authorizeUrl(with("redirect_uri", variant))), variant);
        }
    }

    @Test
    void registeredQueryMustMatchExactlyAndIsKeptOnTheWayBack() {
        String registered = "https://app.example.com/cb?tenant=1";
        OAuthClientSim c = client(registered);
        noRedirect(get(c.authorizeUrl(with("redirect_uri", "https://app.example.com/cb?tenant=2"))), "https://app.example.com/cb?tenant=2");
        noRedirect(get(c.authorizeUrl(with("redirect_uri", "https://app.example.com/cb"))), "https://app.example.com/cb");
        noRedirect(get(c.authorizeUrl(with("redirect_uri", "https://app.example.com/cb?tenant=1&x=1"))), "https://app.example.com/cb?tenant=1&x=1");
        // an error response keeps the registered query and adds its own parameters with '&'
        Map<String, String> q = errorRedirect(get(c.authorizeUrl(with("response_type", "token"))), registered,
                OAuthError.UNSUPPORTED_RESPONSE_TYPE, c.state, s.url);
        assertEquals("1", q.get("tenant"));
    }

    @Test
    void fragmentIsAPage() {
        OAuthClientSim c = client("https://app.example.com/cb");
        for (String variant : List.of("https://app.example.com/cb#frag", "https://app.example.com/cb#", "https://app.example.com/cb?#x")) {
            noRedirect(get(c.authorizeUrl(with("redirect_uri", variant))), variant);
        }
        OAuthClientSim loop = client("http://127.0.0.1/callback");
        noRedirect(get(loop.authorizeUrl(with("redirect_uri", "http://127.0.0.1:5000/callback#x"))), "http://127.0.0.1:5000/callback#x");
    }

    @Test
    void omittedRedirectUriWithSeveralRegisteredIsAPage() {
        OAuthClientSim c = client("https://app.example.com/one", "https://app.example.com/two");
        noRedirect(get(c.authorizeUrl(with("redirect_uri", null))), null);
        noRedirect(get(c.authorizeUrl(with("redirect_uri", ""))), null);
        // even when the rest of the request is bad: there is nowhere safe to send the error
        Map<String, String> bad = with("redirect_uri", null);
        bad.put("code_challenge", null);
        noRedirect(get(c.authorizeUrl(bad)), null);
    }

    @Test
    void omittedRedirectUriWithExactlyOneRegisteredUsesIt() {
        OAuthClientSim c = client("https://app.example.com/only");
        assertLoginPage(get(c.authorizeUrl(with("redirect_uri", null))));
        errorRedirect(get(c.authorizeUrl(Map.of("redirect_uri", "", "response_type", "token"))), "https://app.example.com/only",
                OAuthError.UNSUPPORTED_RESPONSE_TYPE, c.state, s.url);
    }

    @Test
    void loopbackRegisteredWithoutPortAcceptsAnyPort() {
        OAuthClientSim c = client("http://127.0.0.1/callback", "http://localhost/oauth/callback", "http://[::1]/cb");
        for (String ok : List.of("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback", "http://127.0.0.1:1/callback",
                "http://127.0.0.1:65535/callback", "http://localhost:33418/oauth/callback", "http://[::1]:8080/cb")) {
            assertLoginPage(get(c.authorizeUrl(with("redirect_uri", ok))));
        }
        for (String bad : List.of(
                "http://127.0.0.1.nip.io/callback",
                "http://127.0.0.1.nip.io:49152/callback",
                "http://localhost.evil/oauth/callback",
                "http://localhost.evil:33418/oauth/callback",
                "http://127.0.0.1:49152/callback2",
                "http://127.0.0.1:49152/callback/",
                "http://127.0.0.1:49152/callback?x=1",
                "http://127.0.0.1:49152@evil.example/callback",
                "http://evil.example@127.0.0.1:49152/callback",
                "https://127.0.0.1:49152/callback",
                "http://127.0.0.2:49152/callback",
                "http://localhost:33418/callback",
                "http://127.0.0.1:0/callback",
                "http://127.0.0.1:99999/callback",
                "http://127.0.0.1:abc/callback")) {
            noRedirect(get(c.authorizeUrl(with("redirect_uri", bad))), bad);
        }
    }

    @Test
    void loopbackCodeGoesBackToThePresentedPortAndTheTokenRequestMustRepeatIt() {
        OAuthClientSim c = client("http://127.0.0.1/callback");
        c.redirectUri = "http://127.0.0.1:49152/callback";
        Map<String, String> back = c.authorize("alice", PASSWORD, "allow");
        assertNotNull(back.get("code"));
        HttpResponse<String> other = c.token(TestServer.map("grant_type", "authorization_code", "code", back.get("code"),
                "code_verifier", c.verifier, "redirect_uri", "http://127.0.0.1:49153/callback"));
        assertEquals(400, other.statusCode());
        assertEquals(OAuthError.INVALID_GRANT, TestServer.json(other).get("error").asText());
        // the code was consumed by that attempt; a new one with the same port works
        back = c.authorize("alice", PASSWORD, "allow");
        HttpResponse<String> ok = c.exchange(back.get("code"));
        assertEquals(200, ok.statusCode(), ok.body());
    }

    @Test
    void everyRepeatedParameterIsAPage() {
        OAuthClientSim c = client();
        Map<String, String> good = OAuthClientSim.query(c.authorizeUrl(Map.of()));
        for (String repeated : good.keySet()) {
            for (String second : new String[] {good.get(repeated), "other", ""}) {
                List<String> kv = new java.util.ArrayList<>();
                good.forEach((k, v) -> {
                    kv.add(k);
                    kv.add(v);
                });
                kv.add(repeated);
                kv.add(second);
                noRedirect(get(raw(kv.toArray(String[]::new))), null);
            }
        }
        // an unknown parameter repeated, and a parameter repeated before the client_id, are refused the same way
        noRedirect(get(c.authorizeUrl(Map.of()) + "&foo=1&foo=2"), null);
        noRedirect(get(s.url + "/authorize?state=a&state=b&" + c.authorizeUrl(with("state", null)).split("\\?", 2)[1]), null);
    }

    @Test
    void malformedOrOversizedQueryIsAPageToo() throws Exception {
        OAuthClientSim c = client();
        for (String bad : List.of("client_id=%zz", "client_id=" + c.clientId + "&state=%C3%28", "redirect_uri=%", "a=%ZZ&client_id=" + c.clientId)) {
            io.mcpoauth.login.RawHttp.Response r = io.mcpoauth.login.RawHttp.get(s.url, "/authorize?" + bad);
            assertEquals(400, r.status(), bad + ": " + r.body());
            assertEquals(null, r.header("Location"));
            assertTrue(r.header("Content-Type").startsWith("text/html"), bad + ": " + r.header("Content-Type"));
            assertEquals("DENY", r.header("X-Frame-Options"));
            assertEquals("no-store", r.header("Cache-Control"));
            assertFalse(r.body().contains("href"));
        }
        io.mcpoauth.login.RawHttp.Response consent = io.mcpoauth.login.RawHttp.get(s.url, "/consent?txn=%zz");
        assertEquals(400, consent.status());
        assertEquals("DENY", consent.header("X-Frame-Options"));
        StringBuilder many = new StringBuilder(c.authorizeUrl(Map.of()));
        for (int i = 0; i < 120; i++) many.append("&p").append(i).append("=1");
        noRedirect(get(many.toString()), null);
    }

    @Test
    void responseTypeOtherThanCodeGoesBackAsUnsupportedResponseType() {
        OAuthClientSim c = client();
        for (String rt : List.of("token", "id_token", "code token", "code id_token", "CODE", "none")) {
            errorRedirect(get(c.authorizeUrl(with("response_type", rt))), c.redirectUri, OAuthError.UNSUPPORTED_RESPONSE_TYPE, c.state, s.url);
        }
        errorRedirect(get(c.authorizeUrl(with("response_type", null))), c.redirectUri, OAuthError.INVALID_REQUEST, c.state, s.url);
    }

    // ---- rows 9-11 ----

    @Test
    void missingCodeChallengeIsInvalidRequest() {
        OAuthClientSim c = client();
        errorRedirect(get(c.authorizeUrl(with("code_challenge", null))), c.redirectUri, OAuthError.INVALID_REQUEST, c.state, s.url);
        Map<String, String> both = with("code_challenge", null);
        both.put("code_challenge_method", null);
        errorRedirect(get(c.authorizeUrl(both)), c.redirectUri, OAuthError.INVALID_REQUEST, c.state, s.url);
    }

    @Test
    void plainOrMissingMethodIsInvalidRequest() {
        OAuthClientSim c = client();
        for (String m : new String[] {"plain", null, "s256", "S512", ""}) {
            Map<String, String> p = with("code_challenge_method", m);
            if ("plain".equals(m)) p.put("code_challenge", "a".repeat(50));
            errorRedirect(get(c.authorizeUrl(p)), c.redirectUri, OAuthError.INVALID_REQUEST, c.state, s.url);
        }
    }

    @Test
    void malformedChallengeIsInvalidRequest() {
        OAuthClientSim c = client();
        for (String ch : List.of("a".repeat(42), "a".repeat(129), "a".repeat(42) + "+", "a".repeat(42) + "/", "a".repeat(42) + "=",
                "a".repeat(42) + " ", "a".repeat(42) + "\u00e9", "a".repeat(40) + "%00x")) {
            errorRedirect(get(c.authorizeUrl(with("code_challenge", ch))), c.redirectUri, OAuthError.INVALID_REQUEST, c.state, s.url);
        }
        assertLoginPage(get(c.authorizeUrl(with("code_challenge", "A-._~" + "b".repeat(38)))));
        assertLoginPage(get(c.authorizeUrl(with("code_challenge", "z".repeat(128)))));
    }

    @Test
    void resourceForAnotherServerRelativeOrWithFragmentIsInvalidTarget() {
        OAuthClientSim c = client();
        String ours = s.url + "/mcp";
        for (String res : List.of("https://other.example/mcp", "/mcp", "mcp", ours + "#frag", ours + "#", s.url + "/other",
                s.url + "/mcp/x", s.url.replace("127.0.0.1", "localhost") + "/mcp", "https://user@127.0.0.1/mcp", "urn:x:mcp")) {
            errorRedirect(get(c.authorizeUrl(with("resource", res))), c.redirectUri, OAuthError.INVALID_TARGET, c.state, s.url);
        }
        assertLoginPage(get(c.authorizeUrl(with("resource", ours + "?chatgpt=1"))));
        assertLoginPage(get(c.authorizeUrl(with("resource", ours + "/"))));
        assertLoginPage(get(c.authorizeUrl(with("resource", null))));
        // repeated resource is a page (like every repeated parameter), not invalid_target
        noRedirect(get(c.authorizeUrl(Map.of()) + "&resource=" + TestServer.enc("https://other.example/mcp")), null);
    }

    @Test
    void queryOnOurResourceIsIgnoredAndTheTokenIsForOurMcpEndpoint() {
        OAuthClientSim c = client();
        HttpResponse<String> first = c.browserGet(c.authorizeUrl(with("resource", s.url + "/mcp?chatgpt=1")));
        assertLoginPage(first);
        Map<String, String> back = finish(c, first);
        HttpResponse<String> t = c.token(TestServer.map("grant_type", "authorization_code", "code", back.get("code"),
                "code_verifier", c.verifier, "redirect_uri", c.redirectUri, "resource", s.url + "/mcp?chatgpt=1"));
        assertEquals(200, t.statusCode(), t.body());
        assertNotNull(s.server.bearer.authenticate(TestServer.json(t).get("access_token").asText()));
    }

    @Test
    void unknownScopeIsInvalidScope() {
        OAuthClientSim c = client();
        for (String sc : List.of("admin", "mcp admin", "MCP", "mcp\u00e9")) {
            errorRedirect(get(c.authorizeUrl(with("scope", sc))), c.redirectUri, OAuthError.INVALID_SCOPE, c.state, s.url);
        }
    }

    @Test
    void missingOrEmptyScopeMeansTheDefaultScopes() {
        for (String sc : new String[] {null, "", " "}) {
            OAuthClientSim c = client();
            HttpResponse<String> first = c.browserGet(c.authorizeUrl(with("scope", sc)));
            assertLoginPage(first);
            Map<String, String> back = finish(c, first);
            HttpResponse<String> t = c.exchange(back.get("code"));
            assertEquals(200, t.statusCode(), t.body());
            assertEquals("mcp", TestServer.json(t).get("scope").asText());
        }
    }

    @Test
    void badStateIsInvalidRequestAndNotEchoed() {
        OAuthClientSim c = client();
        for (String st : List.of("x".repeat(2049), "a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "\"><script>alert(1)</script>", "a<b", "a>b",
                "a\"b", "a'b", "a\\b", "a`b", "tab\there", "nul\u0000", "caf\u00e9", "a\u202Eb")) {
            HttpResponse<String> r = get(c.authorizeUrl(with("state", st)));
            Map<String, String> q = errorRedirect(r, c.redirectUri, OAuthError.INVALID_REQUEST, null, s.url);
            assertFalse(q.containsKey("state"));
            String loc = r.headers().firstValue("Location").orElseThrow();
            assertFalse(loc.contains("\r") || loc.contains("\n") || loc.contains("<") || loc.contains("\""), loc);
        }
    }

    @Test
    void acceptableStateIsEchoedExactlyAndNeverAppearsInAPage() {
        OAuthClientSim c = client();
        String state = "St4te-marker a&b=c%2F?/+:;~!$*()," + "y".repeat(100);
        HttpResponse<String> first = c.browserGet(c.authorizeUrl(with("state", state)));
        assertLoginPage(first);
        assertFalse(first.body().contains("St4te-marker"), "state reflected in the login page");
        Map<String, String> back = finish(c, first);
        assertEquals(state, back.get("state"));
        assertEquals(s.url, back.get("iss"));
        // the longest accepted state
        assertLoginPage(get(c.authorizeUrl(with("state", "s".repeat(2048)))));
        // no state at all is fine, and none comes back
        OAuthClientSim d = client();
        Map<String, String> noState = finish(d, d.browserGet(d.authorizeUrl(with("state", null))));
        assertFalse(noState.containsKey("state"));
        assertEquals(s.url, noState.get("iss"));
    }

    @Test
    void everyAuthorizationResponseCarriesIss() {
        OAuthClientSim c = client();
        Map<String, String> ok = finish(c, c.browserGet(c.authorizeUrl(Map.of())));
        assertEquals(s.url, ok.get("iss"));
        assertNotNull(ok.get("code"));
        assertEquals(c.state, ok.get("state"));
        // errors: each kind checked above goes through errorRedirect, which requires iss; one more, from the consent page
        OAuthClientSim d = client();
        Map<String, String> denied = d.authorize("alice", PASSWORD, "deny");
        assertEquals(OAuthError.ACCESS_DENIED, denied.get("error"));
        assertEquals(s.url, denied.get("iss"));
    }

    /** Signs alice in and allows, starting from the response to the first GET; returns the client's redirect query. */
    private static Map<String, String> finish(OAuthClientSim c, HttpResponse<String> r) {
        for (int hops = 0; hops < 10; hops++) {
            if (r.statusCode() == 302 || r.statusCode() == 303) {
                String loc = r.headers().firstValue("Location").orElseThrow();
                if (loc.startsWith(c.redirectUri)) return redirectTo(r, r.statusCode(), c.redirectUri);
                r = c.browserGet(loc.startsWith("/") ? s.url + loc : loc);
                continue;
            }
            assertEquals(200, r.statusCode(), r.body());
            assertFalse(r.body().contains("St4te-marker"), "the state is reflected in a page: " + r.body());
            Map<String, String> form = OAuthClientSim.hiddenFields(r.body());
            if (r.body().contains("name=\"password\"")) {
                form.put("username", "alice");
                form.put("password", PASSWORD);
                r = c.browserPost("/login", form);
            } else {
                form.put("decision", "allow");
                r = c.browserPost("/consent", form);
            }
        }
        throw new AssertionError("too many hops");
    }

    @SuppressWarnings("unused")
    private static JsonNode json(HttpResponse<String> r) {
        return TestServer.json(r);
    }
}
