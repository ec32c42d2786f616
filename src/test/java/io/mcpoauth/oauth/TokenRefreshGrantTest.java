package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.TokenCodeGrantTest.invalidGrant;
import static io.mcpoauth.oauth.TokenCodeGrantTest.mcpAccepts;
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
import io.mcpoauth.http.OAuthError;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grant_type=refresh_token} over real HTTP: another client's token, reuse after rotation, the lost-response
 * retry incl. across a restart, concurrent refreshes, expiry and revocation, scope and resource.
 */
class TokenRefreshGrantTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    /** Tokens from a fresh authorization of {@code c} by alice. */
    static JsonNode tokens(OAuthClientSim c, String scope) {
        if (scope != null) {
            // authorize with this scope (the sim's authorize() always asks for "mcp")
            HttpResponse<String> r = c.browserGet(c.authorizeUrl(Map.of("scope", scope)));
            for (int hops = 0; hops < 10; hops++) {
                if (r.statusCode() == 302 || r.statusCode() == 303) {
                    String loc = r.headers().firstValue("Location").orElseThrow();
                    if (loc.startsWith(c.redirectUri)) {
                        HttpResponse<String> t = c.exchange(OAuthClientSim.query(loc).get("code"));
                        assertEquals(200, t.statusCode(), t.body());
                        return TestServer.json(t);
                    }
                    r = c.browserGet(loc.startsWith("/") ? c.server.url + loc : loc);
                    continue;
                }
                Map<String, String> f = OAuthClientSim.hiddenFields(r.body());
                if (r.body().contains("name=\"password\"")) {
                    f.put("username", "alice");
                    f.put("password", PASSWORD);
                    r = c.browserPost("/login", f);
                } else {
                    f.put("decision", "allow");
                    r = c.browserPost("/consent", f);
                }
            }
            throw new AssertionError("too many hops");
        }
        HttpResponse<String> t = c.exchange(c.authorize("alice", PASSWORD, "allow").get("code"));
        assertEquals(200, t.statusCode(), t.body());
        return TestServer.json(t);
    }

    static JsonNode ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return TestServer.json(r);
    }

    static OAuthClientSim client(TestServer s) {
        OAuthClientSim c = new OAuthClientSim(s);
        c.registerDirect();
        return c;
    }

    static String familyOf(String refreshToken) {
        return refreshToken.substring("mcprt_".length(), refreshToken.indexOf('.'));
    }

    @Test
    void refreshTokenOfAnotherClientIsInvalidGrantAndStaysValidForItsOwner() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim a = client(s);
            OAuthClientSim b = client(s);
            String rt = tokens(a, null).get("refresh_token").asText();
            invalidGrant(b.refresh(rt));
            invalidGrant(b.refresh(rt));
            JsonNode next = ok(a.refresh(rt));
            // and B cannot use the successor either
            invalidGrant(b.refresh(next.get("refresh_token").asText()));
            ok(a.refresh(next.get("refresh_token").asText()));
        }
    }

    @Test
    void reuseAfterTheSuccessorWasUsedRevokesTheWholeFamily() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            JsonNode t0 = tokens(c, null);
            String r0 = t0.get("refresh_token").asText();
            JsonNode t1 = ok(c.refresh(r0));
            String r1 = t1.get("refresh_token").asText();
            JsonNode t2 = ok(c.refresh(r1)); // the successor is used: r0 is now retired
            String r2 = t2.get("refresh_token").asText();
            String a2 = t2.get("access_token").asText();
            assertTrue(mcpAccepts(s, a2));

            invalidGrant(c.refresh(r0));

            assertFalse(mcpAccepts(s, a2), "the newest access token survived the reuse");
            assertFalse(mcpAccepts(s, t0.get("access_token").asText()));
            invalidGrant(c.refresh(r2));
            invalidGrant(c.refresh(r1));
            assertNull(s.server.refreshTokens.get(familyOf(r0)), "the family is gone from the store");
        }
    }

    @Test
    void reuseOfAnOlderTokenDeepInTheChainAlsoRevokes() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            List<String> chain = new ArrayList<>();
            chain.add(tokens(c, null).get("refresh_token").asText());
            for (int i = 0; i < 4; i++) chain.add(ok(c.refresh(chain.get(chain.size() - 1))).get("refresh_token").asText());
            JsonNode newest = ok(c.refresh(chain.get(chain.size() - 1)));
            invalidGrant(c.refresh(chain.get(1)));
            invalidGrant(c.refresh(newest.get("refresh_token").asText()));
            assertFalse(mcpAccepts(s, newest.get("access_token").asText()));
        }
    }

    @Test
    void lostResponseRetryWorksOnceWithoutRevocationAlsoAcrossARestart() {
        Map<String, String> env = Map.of("PORT", String.valueOf(TestServer.freePort()));
        String clientId;
        String r1;
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            clientId = c.clientId;
            String r0 = tokens(c, null).get("refresh_token").asText();
            ok(c.refresh(r0)); // response "lost"
            JsonNode retry = ok(c.refresh(r0)); // the client retries with the token it still has
            assertTrue(mcpAccepts(s, retry.get("access_token").asText()));
            r1 = retry.get("refresh_token").asText();
            String lost = ok(c.refresh(r1)).get("refresh_token").asText(); // r1 used, and the next answer lost
            assertNotEquals(r1, lost);
        }
        // the server restarts between the lost answer and the retry
        try (TestServer s = TestServer.start(dir, env)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.clientId = clientId;
            JsonNode retried = ok(c.refresh(r1));
            assertTrue(mcpAccepts(s, retried.get("access_token").asText()));
            String r2 = retried.get("refresh_token").asText();
            JsonNode next = ok(c.refresh(r2));
            assertTrue(mcpAccepts(s, next.get("access_token").asText()));
            // now that the successor was used, the old one is a reuse
            invalidGrant(c.refresh(r1));
            assertFalse(mcpAccepts(s, next.get("access_token").asText()));
        }
    }

    @Test
    void aSecondRetryOfTheReplacedTokenIsAReplayAndRevokesTheGrant() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            String r0 = tokens(c, null).get("refresh_token").asText();
            ok(c.refresh(r0));
            JsonNode retry = ok(c.refresh(r0)); // one retry of a lost response
            invalidGrant(c.refresh(r0)); // a second one is a replay
            assertFalse(mcpAccepts(s, retry.get("access_token").asText()), "the grant ended with everything it issued");
            invalidGrant(c.refresh(retry.get("refresh_token").asText()));
        }
    }

    @Test
    void concurrentRefreshesWithOneTokenNeverLeaveTwoLiveChains() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            String r0 = tokens(c, null).get("refresh_token").asText();
            String family = familyOf(r0);
            int threads = 16;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<HttpResponse<String>> responses = new ArrayList<>();
            try {
                CyclicBarrier barrier = new CyclicBarrier(threads);
                List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    futures.add(pool.submit(() -> {
                        barrier.await(10, TimeUnit.SECONDS);
                        return c.refresh(r0);
                    }));
                }
                for (Future<HttpResponse<String>> f : futures) responses.add(f.get(30, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
            // (a) each answer is a rotation or invalid_grant, never a server error
            List<String> returned = new ArrayList<>();
            for (HttpResponse<String> r : responses) {
                if (r.statusCode() == 200) returned.add(TestServer.json(r).get("refresh_token").asText());
                else invalidGrant(r);
            }
            assertFalse(returned.isEmpty());
            assertEquals(returned.size(), new HashSet<>(returned).size(), "two answers carry the same refresh token");
            // (b) the current token rotates once and, as a lost response, once more; the third use is a replay that
            // revokes the family: no chain is left, let alone two
            assertEquals(2, returned.size(), "two rotations: " + returned.size());
            Instant now = Instant.now();
            assertTrue(returned.stream().allMatch(t -> s.server.refreshTokens.find(t, now) == null), "no returned token works");
            assertNull(s.server.refreshTokens.get(family));
            for (String other : returned) invalidGrant(c.refresh(other));
            invalidGrant(c.refresh(r0));
            assertTrue(s.server.refreshTokens.all().stream().noneMatch(x -> x.clientId().equals(c.clientId)), "no second family appeared");
        }
    }

    @Test
    void twoConcurrentRefreshesWithOneTokenBothSucceedAndLeaveOneChain() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            String r0 = tokens(c, null).get("refresh_token").asText();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<String> returned = new ArrayList<>();
            try {
                CyclicBarrier barrier = new CyclicBarrier(2);
                List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    futures.add(pool.submit(() -> {
                        barrier.await(10, TimeUnit.SECONDS);
                        return c.refresh(r0);
                    }));
                }
                for (Future<HttpResponse<String>> f : futures) returned.add(ok(f.get(30, TimeUnit.SECONDS)).get("refresh_token").asText());
            } finally {
                pool.shutdownNow();
            }
            Instant now = Instant.now();
            List<String> live = returned.stream().filter(t -> s.server.refreshTokens.find(t, now) != null).toList();
            assertEquals(1, live.size(), "exactly one of the two answers continues the chain");
            JsonNode next = ok(c.refresh(live.get(0)));
            assertTrue(mcpAccepts(s, next.get("access_token").asText()));
        }
    }

    @Test
    void expiredOrRevokedRefreshTokenIsInvalidGrant() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of("OAUTH_REFRESH_TOKEN_TTL", "3600"), clock)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            // sliding lifetime: each rotation starts a new hour
            String rt = tokens(c, null).get("refresh_token").asText();
            clock.advance(Duration.ofMinutes(50));
            rt = ok(c.refresh(rt)).get("refresh_token").asText();
            clock.advance(Duration.ofMinutes(50));
            rt = ok(c.refresh(rt)).get("refresh_token").asText();
            clock.advance(Duration.ofMinutes(61));
            invalidGrant(c.refresh(rt));
            invalidGrant(c.refresh(rt));

            // revoked (as /revoke or `users remove` do, through the store)
            String r2 = tokens(c, null).get("refresh_token").asText();
            JsonNode t2 = ok(c.refresh(r2));
            assertTrue(s.server.refreshTokens.revoke(familyOf(r2)));
            invalidGrant(c.refresh(t2.get("refresh_token").asText()));
            invalidGrant(c.refresh(r2));
            assertFalse(mcpAccepts(s, t2.get("access_token").asText()));

            // garbage and unknown
            for (String bad : new String[] {"mcprt_nope.x", "mcprt_" + familyOf(r2) + ".forged", "x", "mcprt_", "mcprt_.", "mcprt_a" + ".b".repeat(200)}) {
                invalidGrant(c.refresh(bad));
            }
        }
    }

    @Test
    void widerScopeIsInvalidScopeAnotherResourceIsInvalidTargetNarrowerIsAllowed() {
        try (TestServer s = TestServer.start(dir, Map.of("OAUTH_SCOPES", "mcp extra"))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            String rt = tokens(c, "mcp").get("refresh_token").asText();
            for (String wider : new String[] {"mcp extra", "extra", "admin", "mcp admin"}) {
                HttpResponse<String> r = c.token(TestServer.map("grant_type", "refresh_token", "refresh_token", rt, "scope", wider));
                assertEquals(400, r.statusCode(), r.body());
                assertEquals(OAuthError.INVALID_SCOPE, TestServer.json(r).get("error").asText());
            }
            for (String other : new String[] {"https://other.example/mcp", s.url + "/other", "/mcp", s.url + "/mcp#x"}) {
                HttpResponse<String> r = c.token(TestServer.map("grant_type", "refresh_token", "refresh_token", rt, "resource", other));
                assertEquals(400, r.statusCode(), r.body());
                assertEquals(OAuthError.INVALID_TARGET, TestServer.json(r).get("error").asText());
            }
            // none of the refusals rotated or revoked anything
            JsonNode same = ok(c.token(TestServer.map("grant_type", "refresh_token", "refresh_token", rt, "scope", "mcp",
                    "resource", s.url + "/mcp?from=chatgpt")));
            assertEquals("mcp", same.get("scope").asText());

            // narrower
            JsonNode wide = tokens(c, "mcp extra");
            assertEquals(Set.of("mcp", "extra"), Scopes.parse(wide.get("scope").asText()));
            JsonNode narrow = ok(c.token(TestServer.map("grant_type", "refresh_token", "refresh_token", wide.get("refresh_token").asText(),
                    "scope", "extra")));
            assertEquals("extra", narrow.get("scope").asText());
            assertEquals(Set.of("extra"), s.server.bearer.authenticate(narrow.get("access_token").asText()).scopes());
            // omitted scope means the scope originally granted (RFC 6749 section 6)
            JsonNode again = ok(c.refresh(narrow.get("refresh_token").asText()));
            assertEquals(Set.of("mcp", "extra"), Scopes.parse(again.get("scope").asText()));
            assertNotNull(again.get("expires_in"));
        }
    }
}
