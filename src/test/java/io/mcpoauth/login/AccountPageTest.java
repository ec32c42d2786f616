package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.idp.FakeIdp;
import io.mcpoauth.idp.IdpFixture;
import io.mcpoauth.store.ClientRecord;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /account and /api/me: who you are, the clients you authorized, the upstream connection; the consent page's rules. */
class AccountPageTest {
    @TempDir
    Path dir;

    private static void pageRules(HttpResponse<String> r) {
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElse(""));
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("frame-ancestors 'none'"));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
    }

    private static JsonNode api(OAuthClientSim browser, String path) {
        HttpResponse<String> r = browser.browserGet(browser.server.url + path);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        return TestServer.json(r);
    }

    private static HttpResponse<String> delete(OAuthClientSim browser, String path, String csrf, String origin) {
        HttpRequest.Builder b = browser.server.request(path).DELETE();
        if (browser.cookie != null) b.header("Cookie", browser.cookie);
        if (csrf != null) b.header("X-CSRF-Token", csrf);
        if (origin != null) b.header("Origin", origin);
        return browser.server.send(b);
    }

    @Test
    void theAccountShowsWhoYouAreYourClientsAndTheUpstreamConnection() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            f.connect(c);
            HttpResponse<String> page = c.browserGet(f.s.url + "/account");
            assertEquals(200, page.statusCode(), page.body());
            pageRules(page);
            String html = page.body();
            assertTrue(html.contains("alice@example.com"), html);
            assertTrue(html.contains("Test Client"), html);
            assertTrue(html.contains("Revoke access"), html);
            assertTrue(html.contains("Connected since"), html);
            assertTrue(html.contains("renewed automatically"), html);

            JsonNode me = api(c, "/api/me");
            assertEquals("oidc:alice-sub", me.path("user_id").asText());
            assertEquals("oidc", me.path("provider").asText());
            assertEquals("alice@example.com", me.path("email").asText());
            assertTrue(me.path("email_verified").asBoolean());
            assertFalse(me.path("csrf_token").asText().isEmpty());

            JsonNode clients = api(c, "/api/me/clients").path("clients");
            assertEquals(1, clients.size(), clients.toString());
            assertEquals(c.clientId, clients.get(0).path("client_id").asText());
            assertEquals("Test Client", clients.get(0).path("client_name").asText());
            assertEquals("mcp", clients.get(0).path("scopes").get(0).asText());
            assertEquals(1, clients.get(0).path("active_grants").asInt());

            JsonNode up = api(c, "/api/me/upstream");
            assertEquals("oidc", up.path("provider").asText());
            assertEquals("connected", up.path("status").asText());
            assertTrue(up.path("refreshable").asBoolean());
            assertTrue(up.path("expires_at").asText().endsWith("Z"), up.toString());
            assertTrue(up.toString().contains("openid"), up.toString());
            assertFalse(up.toString().contains("idp-at-") || up.toString().contains("idp-rt-") || up.toString().contains("v1."), "no secrets");
        }
    }

    @Test
    void revokingAClientEndsItsFamiliesForYouOnlyAndForgetsYourConsent() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim alice = f.client();
            JsonNode aliceTokens = f.connect(alice);
            f.idp.user = FakeIdp.User.of("bob-sub", "bob@example.com");
            OAuthClientSim bob = new OAuthClientSim(f.s);
            bob.clientId = alice.clientId;
            JsonNode bobTokens = f.connect(bob);

            String csrf = api(alice, "/api/me").path("csrf_token").asText();
            HttpResponse<String> noCsrf = alice.browserPost("/account/clients/revoke", Map.of("client_id", alice.clientId));
            assertEquals(403, noCsrf.statusCode());
            HttpResponse<String> bobsCsrf = alice.browserPost("/account/clients/revoke",
                    Map.of("client_id", alice.clientId, "csrf", api(bob, "/api/me").path("csrf_token").asText()));
            assertEquals(403, bobsCsrf.statusCode(), "another session's CSRF token");
            assertNotNull(f.s.server.bearer.authenticate(aliceTokens.get("access_token").asText()), "refused revocations change nothing");

            HttpResponse<String> ok = alice.browserPost("/account/clients/revoke", Map.of("client_id", alice.clientId, "csrf", csrf));
            assertEquals(303, ok.statusCode());
            assertEquals("/account", ok.headers().firstValue("Location").orElse(""));
            assertEquals(0, api(alice, "/api/me/clients").path("clients").size());
            assertNull(f.s.server.bearer.authenticate(aliceTokens.get("access_token").asText()), "alice's access tokens die with the family");

            // bob's grant for the same client is untouched
            assertNotNull(f.s.server.bearer.authenticate(bobTokens.get("access_token").asText()));
            HttpResponse<String> bobRefresh = bob.refresh(bobTokens.get("refresh_token").asText());
            assertEquals(200, bobRefresh.statusCode(), bobRefresh.body());
            assertEquals(1, api(bob, "/api/me/clients").path("clients").size());

            // alice's consent was forgotten: connecting again asks again
            alice.consentPages = 0;
            Map<String, String> back = alice.authorize(null, null, "allow");
            assertNotNull(back.get("code"));
            assertEquals(1, alice.consentPages);
        }
    }

    @Test
    void jsonChangesNeedTheCsrfHeaderAndNoForeignOrigin() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            JsonNode t = f.connect(c);
            String csrf = api(c, "/api/me").path("csrf_token").asText();
            String path = "/api/me/clients/" + c.clientId;
            assertEquals(403, delete(c, path, null, null).statusCode());
            assertEquals(403, delete(c, path, "wrong", null).statusCode());
            assertEquals(403, delete(c, path, csrf, "https://evil.example").statusCode());
            assertEquals(401, delete(new OAuthClientSim(f.s), path, csrf, null).statusCode(), "no session");
            assertEquals(204, delete(c, path, csrf, f.s.url).statusCode());
            assertEquals(404, delete(c, path, csrf, null).statusCode());
            assertEquals(400, c.refresh(t.get("refresh_token").asText()).statusCode());

            // disconnecting upstream: the tokens are gone, tools say so
            JsonNode t2 = f.connect(f.client());
            assertEquals(403, delete(c, "/api/me/upstream", null, null).statusCode());
            assertEquals(204, delete(c, "/api/me/upstream", csrf, null).statusCode());
            assertEquals("not_connected", api(c, "/api/me/upstream").path("status").asText());
            assertNull(f.s.server.upstream.store.get("oidc:alice-sub"));
            JsonNode tool = f.tool(t2.get("access_token").asText(), "upstream_profile");
            assertTrue(IdpFixture.text(tool).startsWith("Re-authentication required"), tool.toString());
            assertEquals(404, delete(c, "/api/me/upstream", csrf, null).statusCode());
        }
    }

    @Test
    void signingInFromTheAccountPageGoesUpstreamAndComesBackWithANewSession() {
        try (IdpFixture f = new IdpFixture("github", dir).start()) {
            f.idp.user = FakeIdp.User.of("31337", "dev@example.com");
            OAuthClientSim browser = new OAuthClientSim(f.s);
            HttpResponse<String> me = f.s.get("/api/me");
            assertEquals(401, me.statusCode());
            assertEquals("login_required", TestServer.json(me).path("error").asText());

            HttpResponse<String> page = browser.browserGet(f.s.url + "/account");
            assertEquals(200, page.statusCode());
            pageRules(page);
            assertTrue(page.body().contains("Sign in with GitHub"), page.body());
            String anonymous = browser.cookie;
            assertNotNull(anonymous);
            Map<String, String> form = OAuthClientSim.hiddenFields(page.body());

            assertEquals(403, browser.browserPost("/account/signin", Map.of()).statusCode(), "no CSRF token");
            HttpResponse<String> go = browser.browserPost("/account/signin", form);
            assertEquals(303, go.statusCode());
            String providerUrl = go.headers().firstValue("Location").orElseThrow();
            assertTrue(providerUrl.startsWith(f.idp.url + "/login/oauth/authorize"), providerUrl);
            String answer = f.providerAnswer(browser, providerUrl);
            HttpResponse<String> back = browser.browserGet(answer);
            assertEquals(302, back.statusCode(), back.body());
            assertEquals("/account", back.headers().firstValue("Location").orElse(""));
            assertNotEquals(anonymous, browser.cookie, "a new session id after sign-in");

            HttpResponse<String> account = browser.browserGet(f.s.url + "/account");
            assertTrue(account.body().contains("dev@example.com"), account.body());
            assertTrue(account.body().contains("None."), "no clients yet");
            assertNotNull(f.s.server.users.get("github:31337"));
            assertEquals("connected", api(browser, "/api/me/upstream").path("status").asText());

            // sign out
            String csrf = api(browser, "/api/me").path("csrf_token").asText();
            HttpResponse<String> out = browser.browserPost("/account/signout", Map.of("csrf", csrf));
            assertEquals(303, out.statusCode());
            assertEquals(401, browser.browserGet(f.s.url + "/api/me").statusCode());
        }
    }

    @Test
    void clientNamesAreEscaped() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            ClientRecord r = f.s.server.clients.get(c.clientId);
            f.s.server.clients.put(new ClientRecord(r.clientId(), "<script>alert(1)</script>", r.redirectUris(), r.grantTypes(), r.responseTypes(),
                    r.tokenEndpointAuthMethod(), r.scope(), r.clientUri(), r.softwareId(), r.softwareVersion(), r.createdAt(), r.lastUsedAt(),
                    r.clientSecretHash(), r.registrationTokenHash()));
            f.connect(c);
            String html = c.browserGet(f.s.url + "/account").body();
            assertFalse(html.contains("<script>"), html);
            assertTrue(html.contains("&lt;script&gt;"), html);
        }
    }

    @Test
    void localSignInOnTheAccountPage() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", "correct horse battery");
            OAuthClientSim browser = new OAuthClientSim(s);
            HttpResponse<String> page = browser.browserGet(s.url + "/account");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("name=\"password\""), page.body());
            Map<String, String> form = OAuthClientSim.hiddenFields(page.body());
            form.put("username", "alice");
            form.put("password", "wrong password here");
            assertEquals(401, browser.browserPost("/account/signin", form).statusCode());
            form.put("password", "correct horse battery");
            HttpResponse<String> ok = browser.browserPost("/account/signin", form);
            assertEquals(303, ok.statusCode(), ok.body());
            JsonNode me = api(browser, "/api/me");
            assertEquals("local:alice", me.path("user_id").asText());
            assertEquals(404, browser.browserGet(s.url + "/api/me/upstream").statusCode(), "no upstream with local sign-in");
            String html = browser.browserGet(s.url + "/account").body();
            assertTrue(html.contains("alice"), html);
            assertFalse(html.contains("connection</h2>"), "no upstream section");
        }
    }

    @Test
    void theSessionOfTheAuthorizationFlowIsTheAccountSession() {
        try (IdpFixture f = new IdpFixture("azure", dir).start()) {
            OAuthClientSim c = f.client();
            f.connect(c);
            // the browser that connected the client is signed in: the account page needs no new sign-in
            assertEquals("azure:alice-sub", api(c, "/api/me").path("user_id").asText());
            assertTrue(Instant.parse(api(c, "/api/me").path("created_at").asText()).isBefore(Instant.now().plusSeconds(1)));
        }
    }
}
