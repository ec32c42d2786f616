package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.login.HttpResponseCheck;
import io.mcpoauth.store.IdpTokenRecord;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sign-in through the upstream identity provider (fake IdP) over real HTTP: state, provider failures, refresh, token isolation. */
class IdpSignInSecurityTest {
    @TempDir
    Path dir;

    private static void nothingStored(IdpFixture f) {
        assertEquals(0, f.s.server.users.count(), "no user created");
        assertEquals(0, f.s.server.upstream.store.count(), "no upstream token stored");
    }

    private static String withParam(String url, String name, String value) {
        String replaced = url.replaceAll("([?&])" + name + "=[^&]*", value == null ? "$1" : "$1" + name + "=" + value);
        return replaced.replace("?&", "?").replace("&&", "&");
    }

    // ---- state missing, wrong, replayed, expired, from another browser ----

    @Test
    void callbackWithoutStateIsRefused() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(withParam(answer, "state", null)), 400, "no valid state");
            nothingStored(f);
            assertEquals(List.of(), f.idp.tokenRequests("authorization_code"), "no code exchange");
        }
    }

    @Test
    void callbackWithAWrongStateIsRefused() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(withParam(answer, "state", "forged-state-value")), 400, "unknown, expired or was already used");
            nothingStored(f);
            assertEquals(List.of(), f.idp.tokenRequests("authorization_code"));
        }
    }

    @Test
    void aReplayedCallbackIsRefusedAndChangesNothing() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponse<String> first = c.browserGet(answer);
            assertEquals(302, first.statusCode(), first.body());
            assertTrue(first.headers().firstValue("Location").orElseThrow().startsWith(c.redirectUri));
            IdpTokenRecord stored = f.s.server.upstream.store.get("oidc:alice-sub");
            assertNotNull(stored);

            HttpResponseCheck.page(c.browserGet(answer), 400, "unknown, expired or was already used");
            assertEquals(1, f.s.server.users.count());
            assertEquals(stored, f.s.server.upstream.store.get("oidc:alice-sub"), "the replay changed nothing");
            assertEquals(1, f.idp.tokenRequests("authorization_code").size(), "no second code exchange");
        }
    }

    @Test
    void stateExpiresAfterTenMinutes() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of(), clock).start()) {
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            clock.advance(Duration.ofMinutes(10).plusSeconds(1));
            HttpResponseCheck.page(c.browserGet(answer), 400, "expired");
            nothingStored(f);
            assertEquals(List.of(), f.idp.tokenRequests("authorization_code"));
        }
    }

    @Test
    void stateIsBoundToTheBrowserSession() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            OAuthClientSim victim = f.client();
            String answer = f.providerAnswer(victim, f.toProvider(victim));
            // another browser (an attacker's callback URL opened elsewhere): its own session, or none
            OAuthClientSim other = new OAuthClientSim(f.s);
            HttpResponseCheck.page(other.browserGet(answer), 400, "did not start in this browser");
            other.browserGet(f.s.url + "/account"); // now with a session of its own
            assertNotNull(other.cookie);
            HttpResponseCheck.page(other.browserGet(answer), 400, "did not start in this browser");
            nothingStored(f);
        }
    }

    // ---- rows 16, 17, 20, 24 with an upstream provider: our consent page's rules come before the provider ----

    @Test
    void consentRulesHoldBeforeTheBrowserGoesUpstream() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            // deny -> access_denied with the client's state; the provider is never contacted
            OAuthClientSim c = f.client();
            Map<String, String> denied = c.authorize(null, null, "deny");
            assertEquals("access_denied", denied.get("error"));
            assertEquals(c.state, denied.get("state"));
            assertEquals(List.of(), f.idp.seen("/authorize"));

            OAuthClientSim d = f.client();
            HttpResponse<String> page = d.browserGet(d.authorizeUrl(Map.of()));
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("you will sign in with"), page.body());
            Map<String, String> form = OAuthClientSim.hiddenFields(page.body());
            form.put("decision", "allow");
            // without the CSRF token: 403, no trip upstream
            Map<String, String> noCsrf = new java.util.HashMap<>(form);
            noCsrf.remove("csrf");
            HttpResponse<String> refused = d.browserPost("/consent", noCsrf);
            assertEquals(403, refused.statusCode());
            assertFalse(refused.headers().firstValue("Location").isPresent());
            // 303 after the POST; a second submission fails
            HttpResponse<String> first = d.browserPost("/consent", form);
            assertEquals(303, first.statusCode());
            HttpResponseCheck.page(d.browserPost("/consent", form), 400, "expired");
            // the session id changes when the upstream sign-in completes
            String before = d.cookie;
            String answer = f.providerAnswer(d, first.headers().firstValue("Location").orElseThrow());
            HttpResponse<String> back = d.browserGet(answer);
            assertEquals(302, back.statusCode(), back.body());
            assertNotEquals(before, d.cookie);
            assertTrue(back.headers().firstValue("Location").orElseThrow().startsWith(d.redirectUri));
        }
    }

    @Test
    void providerAccessDeniedReachesTheClientWithItsOwnState() {
        try (IdpFixture f = new IdpFixture("google", dir).start()) {
            f.idp.authorizeError = "access_denied";
            OAuthClientSim c = f.client();
            Map<String, String> back = c.authorize(null, null, "allow");
            assertEquals("access_denied", back.get("error"));
            assertEquals(c.state, back.get("state"));
            assertEquals(f.s.url, back.get("iss"));
            assertNull(back.get("code"));
            nothingStored(f);
        }
    }

    @Test
    void providerErrorsOtherThanAccessDeniedAreNotPassedOffAsTheUsersChoice() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            f.idp.authorizeError = "server_error";
            OAuthClientSim c = f.client();
            assertEquals("temporarily_unavailable", c.authorize(null, null, "allow").get("error"));
            f.idp.authorizeError = "invalid_scope";
            OAuthClientSim d = f.client();
            Map<String, String> back = d.authorize(null, null, "allow");
            assertEquals("server_error", back.get("error"));
            assertEquals(d.state, back.get("state"));
            nothingStored(f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"google", "azure", "github", "oidc"})
    void tokenEndpoint500GivesTemporarilyUnavailable(String provider) {
        try (IdpFixture f = new IdpFixture(provider, dir).start()) {
            f.idp.tokenMode = FakeIdp.Mode.STATUS_500;
            OAuthClientSim c = f.client();
            Map<String, String> back = c.authorize(null, null, "allow");
            assertEquals("temporarily_unavailable", back.get("error"));
            assertEquals(c.state, back.get("state"));
            nothingStored(f);
        }
    }

    @Test
    void aHangingTokenEndpointIsCutOffByTheTimeout() {
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of("UPSTREAM_TIMEOUT", "1")).start()) {
            f.idp.tokenMode = FakeIdp.Mode.HANG;
            OAuthClientSim c = f.client();
            long t0 = System.nanoTime();
            Map<String, String> back = c.authorize(null, null, "allow");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("temporarily_unavailable", back.get("error"));
            assertEquals(c.state, back.get("state"));
            assertTrue(ms < 6_000, "bounded: " + ms + " ms");
            nothingStored(f);
        }
    }

    @Test
    void codeExchangeInvalidGrantIsAnErrorPageNotSomethingElse() {
        try (IdpFixture f = new IdpFixture("github", dir).start()) {
            f.idp.tokenMode = FakeIdp.Mode.INVALID_GRANT;
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(answer), 400, "expired or was already used");
            nothingStored(f);
        }
    }

    @Test
    void rejectedClientCredentialsTellTheClientServerError() {
        try (IdpFixture f = new IdpFixture("google", dir).start()) {
            f.idp.tokenMode = FakeIdp.Mode.INVALID_CLIENT;
            OAuthClientSim c = f.client();
            Map<String, String> back = c.authorize(null, null, "allow");
            assertEquals("server_error", back.get("error"));
            nothingStored(f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"google", "azure", "github", "oidc"})
    void userinfoFailureIsAClearPageAndNoUser(String provider) {
        try (IdpFixture f = new IdpFixture(provider, dir).start()) {
            f.idp.userinfoMode = FakeIdp.Mode.STATUS_500;
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(answer), 502, "No account was created");
            nothingStored(f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"google", "azure", "github", "oidc"})
    void userinfoWithoutSubjectIsAClearPageAndNoUser(String provider) {
        try (IdpFixture f = new IdpFixture(provider, dir).start()) {
            f.idp.userinfoMode = FakeIdp.Mode.NO_SUB;
            f.idp.sendIdToken = false;
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(answer), 502, "did not say who signed in");
            nothingStored(f);
        }
    }

    // ---- upstream refresh ----

    /** Connected with an upstream token that lives 120 s; the clock is then 90 s on, inside the refresh margin. */
    private static String connectedNearExpiry(IdpFixture f, TestClock clock) {
        f.idp.expiresIn = 120;
        JsonNode t = f.connect(f.client());
        clock.advance(Duration.ofSeconds(90));
        return t.get("access_token").asText();
    }

    @Test
    void refreshIsTransparentBeforeExpiry() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of(), clock).start()) {
            String at = connectedNearExpiry(f, clock);
            IdpTokenRecord before = f.s.server.upstream.store.get("oidc:alice-sub");
            JsonNode r = f.tool(at, "upstream_profile");
            assertFalse(r.path("isError").asBoolean(), r.toString());
            assertEquals(1, f.idp.refreshCalls.get());
            IdpTokenRecord after = f.s.server.upstream.store.get("oidc:alice-sub");
            assertNotEquals(before.ciphertext(), after.ciphertext());
            assertNotNull(after.refreshedAt());
            assertTrue(after.expiresAt().isAfter(before.expiresAt()));
            // the refresh token sent upstream is the one the provider issued, and no resource goes with it
            FakeIdp.Seen refresh = f.idp.tokenRequests("refresh_token").get(0);
            assertTrue(refresh.form().get("refresh_token").startsWith("idp-rt-"));
            assertFalse(refresh.form().containsKey("resource"));
        }
    }

    @Test
    void invalidGrantDeletesTheStoredTokenAndToolsSayReauthenticate() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("google", dir, Map.of(), clock).start()) {
            String at = connectedNearExpiry(f, clock);
            f.idp.refreshMode = FakeIdp.Mode.INVALID_GRANT;
            JsonNode r = f.tool(at, "upstream_profile");
            assertTrue(r.path("isError").asBoolean(), r.toString());
            assertTrue(IdpFixture.text(r).startsWith("Re-authentication required"), IdpFixture.text(r));
            assertTrue(IdpFixture.text(r).contains(f.s.url + "/account"), IdpFixture.text(r));
            assertNull(f.s.server.upstream.store.get("google:alice-sub"), "the stored upstream token is deleted");
            // asked again: the same answer, no refresh attempt, no 500
            JsonNode again = f.tool(at, "upstream_profile");
            assertTrue(IdpFixture.text(again).startsWith("Re-authentication required"));
            assertEquals(1, f.idp.refreshCalls.get());
            // the client's own grant is untouched: whoami still works
            assertFalse(f.tool(at, "whoami").path("isError").asBoolean());
        }
    }

    @Test
    void githubsBadRefreshTokenCountsAsInvalidGrant() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("github", dir, Map.of(), clock).start()) {
            f.idp.user = FakeIdp.User.of("99", "gh@example.com");
            String at = connectedNearExpiry(f, clock);
            f.idp.forgetRefreshTokens(); // GitHub answers 200 error=bad_refresh_token
            JsonNode r = f.tool(at, "upstream_profile");
            assertTrue(IdpFixture.text(r).startsWith("Re-authentication required"), r.toString());
            assertNull(f.s.server.upstream.store.get("github:99"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"STATUS_500", "HANG", "INVALID_CLIENT"})
    void anyOtherFailureKeepsTheTokenForALaterRetry(String mode) {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of("UPSTREAM_TIMEOUT", "1"), clock).start()) {
            String at = connectedNearExpiry(f, clock);
            IdpTokenRecord before = f.s.server.upstream.store.get("oidc:alice-sub");
            f.idp.refreshMode = FakeIdp.Mode.valueOf(mode);
            // still valid for 30 s: the current token is used
            JsonNode stillValid = f.tool(at, "upstream_profile");
            assertFalse(stillValid.path("isError").asBoolean(), stillValid.toString());
            // expired now: the tool is told to retry later; nothing is deleted
            clock.advance(Duration.ofSeconds(60));
            long t0 = System.nanoTime();
            JsonNode expired = f.tool(at, "upstream_profile");
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 6_000, "bounded");
            assertTrue(expired.path("isError").asBoolean(), expired.toString());
            assertTrue(IdpFixture.text(expired).contains("try again"), IdpFixture.text(expired));
            assertFalse(IdpFixture.text(expired).contains("Re-authentication"), IdpFixture.text(expired));
            assertEquals(before, f.s.server.upstream.store.get("oidc:alice-sub"), "kept unchanged");
            // the provider is back: the next call refreshes and works
            f.idp.refreshMode = FakeIdp.Mode.OK;
            JsonNode ok = f.tool(at, "upstream_profile");
            assertFalse(ok.path("isError").asBoolean(), ok.toString());
            assertNotNull(f.s.server.upstream.store.get("oidc:alice-sub").refreshedAt());
        }
    }

    @Test
    void concurrentCallsRefreshOncePerUser() throws Exception {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of(), clock).start()) {
            String at = connectedNearExpiry(f, clock);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<JsonNode>> calls = new ArrayList<>();
                for (int i = 0; i < 8; i++) calls.add(() -> f.tool(at, "upstream_profile"));
                for (Future<JsonNode> r : pool.invokeAll(calls)) assertFalse(r.get().path("isError").asBoolean(), r.get().toString());
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, f.idp.refreshCalls.get(), "one refresh under the per-user lock; the others reuse it");
        }
    }

    @Test
    void aRefreshWithoutANewRefreshTokenKeepsTheOldOne() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of(), clock).start()) {
            String at = connectedNearExpiry(f, clock);
            f.idp.rotateRefreshTokens = false;
            assertFalse(f.tool(at, "upstream_profile").path("isError").asBoolean());
            clock.advance(Duration.ofSeconds(100));
            assertFalse(f.tool(at, "upstream_profile").path("isError").asBoolean());
            assertEquals(2, f.idp.refreshCalls.get());
            List<FakeIdp.Seen> refreshes = f.idp.tokenRequests("refresh_token");
            assertEquals(refreshes.get(0).form().get("refresh_token"), refreshes.get(1).form().get("refresh_token"));
        }
    }

    @Test
    void theClientsBearerTokenNeverGoesUpstream() {
        TestClock clock = new TestClock();
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of(), clock).start()) {
            f.idp.expiresIn = 120;
            OAuthClientSim c = f.client();
            JsonNode t = f.connect(c);
            String at = t.get("access_token").asText();
            String rt = t.get("refresh_token").asText();
            assertFalse(f.tool(at, "upstream_profile").path("isError").asBoolean());
            JsonNode refreshed = TestServer.json(c.refresh(rt));
            String at2 = refreshed.get("access_token").asText();
            clock.advance(Duration.ofSeconds(90)); // the upstream token is refreshed on the next call
            assertFalse(f.tool(at2, "upstream_profile").path("isError").asBoolean());
            assertEquals(1, f.idp.refreshCalls.get());
            List<String> ours = List.of(at, rt, at2, refreshed.get("refresh_token").asText());
            int headers = 0;
            for (FakeIdp.Seen r : f.idp.requests) {
                if (r.authorization() != null) headers++;
            }
            assertTrue(headers >= 4, "the provider saw Authorization headers: token endpoint and userinfo calls");
            for (String seen : f.everythingTheProviderSaw()) {
                for (String mine : ours) assertFalse(seen.contains(mine), "a token of ours reached the provider");
                assertFalse(seen.contains("mcpat_") || seen.contains("mcprt_"), seen);
            }
            for (FakeIdp.Seen r : f.idp.requests) {
                if (r.authorization() != null && r.authorization().startsWith("Bearer ")) {
                    assertTrue(r.authorization().startsWith("Bearer idp-at-"), "only the provider's own tokens: " + r.authorization());
                }
            }
        }
    }
}
