package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.http.OAuthError;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grant_type=authorization_code} over real HTTP: replay revokes, concurrent redemption, wrong client, expiry,
 * redirect URI, and nothing secret in the data directory (for codes and tokens).
 */
class TokenCodeGrantTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    static OAuthClientSim client(TestServer s) {
        OAuthClientSim c = new OAuthClientSim(s);
        c.registerDirect();
        return c;
    }

    static void invalidGrant(HttpResponse<String> r) {
        assertEquals(400, r.statusCode(), r.body());
        assertEquals(OAuthError.INVALID_GRANT, TestServer.json(r).get("error").asText(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
    }

    /** True when /mcp accepts the access token (a tools/list call answers 200). */
    static boolean mcpAccepts(TestServer s, String accessToken) {
        HttpResponse<String> r = s.postJson("/mcp", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                "Authorization", "Bearer " + accessToken, "Accept", "application/json, text/event-stream",
                "MCP-Protocol-Version", "2025-06-18");
        if (r.statusCode() == 401) return false;
        assertEquals(200, r.statusCode(), r.body());
        return true;
    }

    @Test
    void codeUsedTwiceFailsAndRevokesWhatTheFirstUseIssued() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            String code = c.authorize("alice", PASSWORD, "allow").get("code");
            HttpResponse<String> first = c.exchange(code);
            assertEquals(200, first.statusCode(), first.body());
            JsonNode t = TestServer.json(first);
            String access = t.get("access_token").asText();
            String refresh = t.get("refresh_token").asText();
            assertTrue(mcpAccepts(s, access));
            // a refresh in between: its tokens belong to the same grant and must die too
            HttpResponse<String> rr = c.refresh(refresh);
            assertEquals(200, rr.statusCode());
            String access2 = TestServer.json(rr).get("access_token").asText();
            String refresh2 = TestServer.json(rr).get("refresh_token").asText();

            invalidGrant(c.exchange(code));

            assertFalse(mcpAccepts(s, access), "the first access token still works after the replay");
            assertFalse(mcpAccepts(s, access2), "the refreshed access token still works after the replay");
            assertNull(s.server.bearer.authenticate(access));
            invalidGrant(c.refresh(refresh2));
            invalidGrant(c.refresh(refresh));
            // a third use: still invalid_grant
            invalidGrant(c.exchange(code));
        }
    }

    @Test
    void replayByAnotherClientAlsoRevokes() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim a = client(s);
            OAuthClientSim b = client(s);
            String code = a.authorize("alice", PASSWORD, "allow").get("code");
            HttpResponse<String> ok = a.exchange(code);
            assertEquals(200, ok.statusCode());
            String access = TestServer.json(ok).get("access_token").asText();
            b.verifier = a.verifier;
            invalidGrant(b.exchange(code));
            assertFalse(mcpAccepts(s, access));
        }
    }

    @Test
    void simultaneousRedemptionsGiveExactlyOne200() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                for (int round = 0; round < 5; round++) {
                    String code = c.authorize("alice", PASSWORD, "allow").get("code");
                    CyclicBarrier barrier = new CyclicBarrier(threads);
                    List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                    for (int i = 0; i < threads; i++) {
                        futures.add(pool.submit(() -> {
                            barrier.await(10, TimeUnit.SECONDS);
                            return c.exchange(code);
                        }));
                    }
                    List<HttpResponse<String>> ok = new ArrayList<>();
                    for (Future<HttpResponse<String>> f : futures) {
                        HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                        if (r.statusCode() == 200) ok.add(r);
                        else invalidGrant(r);
                    }
                    assertEquals(1, ok.size(), "round " + round + ": exactly one redemption succeeds");
                    // the code was presented more than once: what the one success got is revoked (as on any replay), whatever the timing
                    JsonNode t = TestServer.json(ok.get(0));
                    assertFalse(mcpAccepts(s, t.get("access_token").asText()), "round " + round);
                    invalidGrant(c.refresh(t.get("refresh_token").asText()));
                }
            } finally {
                pool.shutdownNow();
            }
            // a code used once, normally, is unaffected
            HttpResponse<String> normal = c.exchange(c.authorize("alice", PASSWORD, "allow").get("code"));
            assertEquals(200, normal.statusCode());
            assertTrue(mcpAccepts(s, TestServer.json(normal).get("access_token").asText()));
        }
    }

    @Test
    void codeOfAnotherClientExpiredOrRedirectUriDiffers() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of(), clock)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim a = client(s);
            OAuthClientSim b = client(s);

            // client B redeems A's code (with A's verifier and redirect URI)
            String code = a.authorize("alice", PASSWORD, "allow").get("code");
            b.verifier = a.verifier;
            invalidGrant(b.exchange(code));

            // expired: the code lives OAUTH_AUTH_CODE_TTL (600 s)
            String old = a.authorize("alice", PASSWORD, "allow").get("code");
            clock.advance(Duration.ofSeconds(601));
            invalidGrant(a.exchange(old));
            String fresh = a.authorize("alice", PASSWORD, "allow").get("code");
            clock.advance(Duration.ofSeconds(590));
            assertEquals(200, a.exchange(fresh).statusCode(), "just inside the lifetime");

            // redirect_uri differs, or is left out although /authorize had it
            for (String other : new String[] {"http://127.0.0.1:9999/callback/", "http://127.0.0.1:9998/callback", "http://127.0.0.1:9999/other",
                    "https://127.0.0.1:9999/callback", null}) {
                String c2 = a.authorize("alice", PASSWORD, "allow").get("code");
                Map<String, String> form = TestServer.map("grant_type", "authorization_code", "code", c2, "code_verifier", a.verifier);
                if (other != null) form.put("redirect_uri", other);
                invalidGrant(a.token(form));
            }

            // resource for another server at the token endpoint: invalid_target
            String c3 = a.authorize("alice", PASSWORD, "allow").get("code");
            HttpResponse<String> r = a.token(TestServer.map("grant_type", "authorization_code", "code", c3, "code_verifier", a.verifier,
                    "redirect_uri", a.redirectUri, "resource", "https://other.example/mcp"));
            assertEquals(400, r.statusCode());
            assertEquals(OAuthError.INVALID_TARGET, TestServer.json(r).get("error").asText());

            // unknown and garbage codes
            for (String bad : new String[] {"mcpac_unknown", "x", "mcpac_" + "A".repeat(43), "\u00e9"}) {
                invalidGrant(a.token(TestServer.map("grant_type", "authorization_code", "code", bad, "code_verifier", a.verifier,
                        "redirect_uri", a.redirectUri)));
            }
        }
    }

    @Test
    void redirectUriMayBeOmittedWhenAuthorizeOmittedItToo() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            HttpResponse<String> r = c.browserGet(c.authorizeUrl(TestServer.map("redirect_uri", null)));
            Map<String, String> f = OAuthClientSim.hiddenFields(r.body());
            f.put("username", "alice");
            f.put("password", PASSWORD);
            HttpResponse<String> after = c.browserPost("/login", f);
            HttpResponse<String> consent = c.browserGet(s.url + after.headers().firstValue("Location").orElseThrow());
            Map<String, String> d = OAuthClientSim.hiddenFields(consent.body());
            d.put("decision", "allow");
            String code = OAuthClientSim.query(c.browserPost("/consent", d).headers().firstValue("Location").orElseThrow()).get("code");
            HttpResponse<String> t = c.token(TestServer.map("grant_type", "authorization_code", "code", code, "code_verifier", c.verifier));
            assertEquals(200, t.statusCode(), t.body());
        }
    }

    // ---- no raw codes or tokens on disk ----

    @Test
    void noRawCodeOrTokenInTheDataDirectory() throws IOException {
        List<String> secrets = new ArrayList<>();
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = client(s);
            for (int i = 0; i < 3; i++) {
                String code = c.authorize("alice", PASSWORD, "allow").get("code");
                secrets.add(code);
                JsonNode t = TestServer.json(c.exchange(code));
                secrets.add(t.get("access_token").asText());
                String rt = t.get("refresh_token").asText();
                secrets.add(rt);
                for (int k = 0; k < 3; k++) {
                    JsonNode n = TestServer.json(c.refresh(rt));
                    secrets.add(n.get("access_token").asText());
                    rt = n.get("refresh_token").asText();
                    secrets.add(rt);
                }
            }
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertFalse(files.isEmpty());
        for (Path f : files) {
            String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String secret : secrets) {
                assertNotNull(secret);
                // the random part: after "mcpac_"/"mcpat_", or after the family id of "mcprt_<family>.<random>"
                // (the family id is the grant's name and is stored on purpose)
                String random = secret.startsWith("mcprt_") ? secret.substring(secret.indexOf('.') + 1) : secret.substring(6);
                assertTrue(random.length() >= 40, secret);
                assertFalse(text.contains(secret), f + " contains a raw secret");
                assertFalse(text.contains(random), f + " contains the random part of a secret");
            }
        }
    }
}
