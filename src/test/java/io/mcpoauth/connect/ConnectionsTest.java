package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.idp.FakeIdp;
import io.mcpoauth.store.ConnectionRecord;
import io.mcpoauth.store.ConnectionStore;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users connect their own accounts at a provider over real HTTP; tools get that user's token, refreshed, never another's. */
class ConnectionsTest {
    static final FakeIdp.User ALICE_AT_SVC = FakeIdp.User.of("alice-at-svc", "alice@svc.example");
    static final FakeIdp.User BOB_AT_SVC = FakeIdp.User.of("bob-at-svc", "bob@svc.example");

    @TempDir
    Path dir;

    @Test
    void eachUserConnectsTheirOwnAccountAndToolsReachTheServiceAsThatUser() throws Exception {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            JsonNode before = alice.apiConnections();
            assertEquals("not_connected", before.get(0).path("status").asText(), before.toString());
            assertEquals(f.s.url + "/connect/svc", before.get(0).path("connect_url").asText());
            assertFalse(before.get(0).has("account"), "absent values are left out: " + before);

            alice.connect(ALICE_AT_SVC);
            bob.connect(BOB_AT_SVC);
            JsonNode a = alice.apiConnections().get(0);
            assertEquals("connected", a.path("status").asText(), a.toString());
            assertEquals("alice@svc.example", a.path("account").asText());
            assertEquals("bob@svc.example", bob.apiConnections().get(0).path("account").asText(), "each sees only their own");

            // the PKCE S256 challenge went to the provider, and the verifier with the code
            FakeIdp.Seen authz = f.idp.seen("/authorize").get(0);
            assertEquals("S256", authz.query().get("code_challenge_method"));
            assertNotNull(f.idp.tokenRequests("authorization_code").get(0).form().get("code_verifier"));

            // a tool reads the provider's userinfo with the caller's own connection token
            JsonNode ap = alice.toolJson(alice.call("connection_profile", "{\"name\":\"svc\"}", "2025-06-18"));
            assertEquals("alice-at-svc", ap.path("profile").path("sub").asText(), ap.toString());
            JsonNode bp = bob.toolJson(bob.call("connection_profile", "{\"name\":\"svc\"}", "2025-06-18"));
            assertEquals("bob-at-svc", bp.path("profile").path("sub").asText(), bp.toString());
            JsonNode status = alice.toolJson(alice.call("connections_status", "{}", "2025-06-18"));
            assertEquals("alice@svc.example", status.path("connections").get(0).path("account").asText(), status.toString());
            assertTrue(f.s.get("/api/me/connections").statusCode() == 401, "no credential, no list");
            assertEquals(401, f.s.get("/api/me/connections", "Authorization", "Bearer not-a-token").statusCode());

            // at rest: no token in the file, the file is 0600
            Path file = f.s.dataDir.resolve("connections.json");
            String stored = Files.readString(file);
            for (String t : f.idp.issued) assertFalse(stored.contains(t), "a provider token is stored in clear");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

            // the account page lists it with Reconnect and Disconnect
            String page = alice.sim.browserGet(f.s.url + "/account").body();
            assertTrue(page.contains("alice@svc.example") && page.contains("Reconnect ") && page.contains("Disconnect "), page);
        }
    }

    @Test
    void aConnectLinkStartedByOneUserCannotBeCompletedByAnotherAndEachStateWorksOnce() {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User mallory = f.user("mallory");
            // mallory starts a connect of her own account and gets alice to open the provider's answer
            String callback = mallory.approve(mallory.startConnect(), FakeIdp.User.of("mallory-at-svc", "mallory@svc.example"));
            HttpResponse<String> r = alice.callback(callback);
            assertEquals(403, r.statusCode(), r.body());
            assertTrue(r.body().contains("started by someone else"), r.body());
            assertEquals("not_connected", alice.apiConnections().get(0).path("status").asText(), "alice is not connected to mallory's account");
            assertEquals("not_connected", mallory.apiConnections().get(0).path("status").asText());
            // the state was used up by that attempt
            assertEquals(400, mallory.callback(callback).statusCode());

            // single use: the same answer a second time is refused
            String own = alice.approve(alice.startConnect(), ALICE_AT_SVC);
            assertEquals(303, alice.callback(own).statusCode());
            HttpResponse<String> again = alice.callback(own);
            assertEquals(400, again.statusCode(), again.body());
            assertTrue(again.body().contains("unknown, expired or was already used"), again.body());
            // a forged or missing state
            assertEquals(400, alice.callback(f.s.url + "/connect/callback?code=x&state=forged").statusCode());
            assertEquals(400, alice.callback(f.s.url + "/connect/callback?code=x").statusCode());
            // an issuer that is not the provider's
            String wrongIss = alice.approve(alice.startConnect(), ALICE_AT_SVC) + "&iss=" + TestServer.enc("https://evil.example");
            HttpResponse<String> w = alice.callback(wrongIss);
            assertEquals(400, w.statusCode(), w.body());
            assertTrue(w.body().contains("issuer mismatch"), w.body());
        }
    }

    @Test
    void theStateExpiresAfterTenMinutesAndASignedOutBrowserSignsInFirstAndComesBack() {
        TestClock clock = new TestClock();
        try (ConnectFixture f = new ConnectFixture(dir, null).start(clock)) {
            ConnectFixture.User alice = f.user("alice");
            String callback = alice.approve(alice.startConnect(), ALICE_AT_SVC);
            clock.advance(Duration.ofMinutes(11));
            HttpResponse<String> late = alice.callback(callback);
            assertEquals(400, late.statusCode(), late.body());

            OAuthClientSim browser = new OAuthClientSim(f.s);
            HttpResponse<String> r = browser.browserGet(f.s.url + "/connect/svc");
            assertEquals(303, r.statusCode());
            assertEquals("/account?next=/connect/svc", r.headers().firstValue("Location").orElseThrow());
            HttpResponse<String> signIn = browser.browserGet(f.s.url + "/account?next=/connect/svc");
            Map<String, String> form = OAuthClientSim.hiddenFields(signIn.body());
            assertEquals("/connect/svc", form.get("next").replace("&#47;", "/"), "the page carries where to come back (escaped)");
            form.put("next", "/connect/svc");
            form.put("username", "alice");
            form.put("password", ConnectFixture.PASSWORD);
            HttpResponse<String> back = browser.browserPost("/account/signin", form);
            assertEquals(303, back.statusCode(), back.body());
            assertEquals("/connect/svc", back.headers().firstValue("Location").orElseThrow());
            // never an open redirect
            Map<String, String> evil = OAuthClientSim.hiddenFields(new OAuthClientSim(f.s).browserGet(f.s.url + "/account?next=https://evil.example").body());
            assertNull(evil.get("next"));
        }
    }

    @Test
    void anAccessTokenIsRefreshedAheadOfExpiryOnceForManyConcurrentCalls() throws Exception {
        TestClock clock = new TestClock();
        try (ConnectFixture f = new ConnectFixture(dir, null).start(clock)) {
            f.idp.expiresIn = 300;
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ALICE_AT_SVC);
            Connections c = f.s.server.connections;
            String first = c.token(alice.id(), "svc").accessToken();
            assertEquals(0, f.idp.refreshCalls.get(), "fresh: no refresh");
            clock.advance(Duration.ofSeconds(250)); // 50 s left: within the minute ahead
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<String>> calls = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) calls.add(pool.submit(() -> c.token(alice.id(), "svc").accessToken()));
                List<String> got = new ArrayList<>();
                for (Future<String> x : calls) got.add(x.get(30, TimeUnit.SECONDS));
                assertEquals(1, f.idp.refreshCalls.get(), "one refresh for eight concurrent calls");
                assertEquals(1, got.stream().distinct().count(), "all got the refreshed token");
                assertFalse(got.get(0).equals(first));
            } finally {
                pool.shutdownNow();
            }
            JsonNode a = alice.apiConnections().get(0);
            assertTrue(a.has("refreshed_at"), a.toString());
            assertTrue(a.has("last_used_at"), a.toString());
        }
    }

    @Test
    void onlyInvalidGrantNeedsAReconnectWhileAnUnreachableProviderIsTemporary() {
        TestClock clock = new TestClock();
        try (ConnectFixture f = new ConnectFixture(dir, null).start(clock)) {
            f.idp.expiresIn = 120;
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ALICE_AT_SVC);
            Connections c = f.s.server.connections;
            clock.advance(Duration.ofSeconds(200)); // expired
            f.idp.refreshMode = FakeIdp.Mode.STATUS_500;
            ConnectionAccess.Unavailable u = assertThrows(ConnectionAccess.Unavailable.class, () -> c.token(alice.id(), "svc"));
            assertTrue(u.getMessage().contains("try again"), u.getMessage());
            assertEquals("connected", alice.apiConnections().get(0).path("status").asText(), "a failing provider changes nothing");
            assertNull(f.s.server.stores.connections().get(alice.id(), "svc").refreshingSince(), "nothing was spent: the marker is cleared");
            f.idp.refreshMode = FakeIdp.Mode.OK;
            assertNotNull(c.token(alice.id(), "svc").accessToken(), "the next call refreshes");

            clock.advance(Duration.ofSeconds(200));
            f.idp.refreshMode = FakeIdp.Mode.INVALID_GRANT;
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> c.token(alice.id(), "svc"));
            assertTrue(n.reconnect());
            assertEquals(f.s.url + "/connect/svc", n.connectUrl());
            assertEquals("needs_reconnect", alice.apiConnections().get(0).path("status").asText());
            // the tool says so, with the link, to a client that cannot open it itself
            JsonNode err = alice.call("connection_profile", "{\"name\":\"svc\"}", "2025-06-18");
            assertTrue(err.path("result").path("isError").asBoolean(), err.toString());
            assertTrue(err.toString().contains(f.s.url + "/connect/svc"), err.toString());
            // reconnecting makes it work again
            f.idp.refreshMode = FakeIdp.Mode.OK;
            alice.connect(ALICE_AT_SVC);
            assertEquals("connected", alice.apiConnections().get(0).path("status").asText());
        }
    }

    @Test
    void aRefreshWhoseAnswerIsLostNeverSendsTheRotatedTokenAgain() {
        TestClock clock = new TestClock();
        ConnectFixture fx = new ConnectFixture(dir, null);
        fx.env.put("UPSTREAM_TIMEOUT", "1");
        try (ConnectFixture f = fx.start(clock)) {
            f.idp.expiresIn = 120;
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ALICE_AT_SVC);
            Connections c = f.s.server.connections;
            clock.advance(Duration.ofSeconds(200));
            f.idp.refreshMode = FakeIdp.Mode.HANG;
            assertThrows(ConnectionAccess.Unavailable.class, () -> c.token(alice.id(), "svc"));
            assertEquals(1, f.idp.refreshCalls.get());
            f.idp.refreshMode = FakeIdp.Mode.OK;
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> c.token(alice.id(), "svc"));
            assertTrue(n.reconnect(), n.getMessage());
            assertEquals(1, f.idp.refreshCalls.get(), "the possibly spent refresh token was not sent again");
        }
    }

    @Test
    void aRefreshInterruptedByACrashIsNotRetriedAfterTheRestartButConnectionsSurviveIt() {
        TestClock clock = new TestClock();
        try (ConnectFixture f = new ConnectFixture(dir, null).start(clock)) {
            f.idp.expiresIn = 120;
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            alice.connect(ALICE_AT_SVC);
            bob.connect(BOB_AT_SVC);
            // what a process killed between storing its marker and the provider's answer leaves behind
            ConnectionStore store = f.s.server.stores.connections();
            ConnectionRecord r = store.get(alice.id(), "svc");
            assertTrue(store.replace(r, r.marked(clock.instant(), "a-process-that-died")));
            f.restart(clock);
            clock.advance(Duration.ofSeconds(200));
            Connections c = f.s.server.connections;
            int calls = f.idp.refreshCalls.get();
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> c.token(alice.id(), "svc"));
            assertTrue(n.reconnect());
            assertEquals(calls, f.idp.refreshCalls.get(), "the refresh token that may be spent is never sent");
            // bob's connection was not in flight: it survived the restart and refreshes
            assertNotNull(c.token(bob.id(), "svc").accessToken());
            assertEquals(calls + 1, f.idp.refreshCalls.get());
        }
    }

    @Test
    void anInterruptedRefreshWhoseTokenTheProviderStillAcceptsIsResumedAndASpentOneIsNot() {
        TestClock clock = new TestClock();
        ConnectFixture fx = new ConnectFixture(dir, null);
        fx.idp.introspection = true; // discovered at start: the provider can say whether a refresh token is still unused
        try (ConnectFixture f = fx.start(clock)) {
            f.idp.expiresIn = 120;
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ALICE_AT_SVC);
            ConnectionStore store = f.s.server.stores.connections();
            // killed after storing the marker, before the request reached the provider: the token is unused
            ConnectionRecord r = store.get(alice.id(), "svc");
            assertTrue(store.replace(r, r.marked(clock.instant(), "a-process-that-died")));
            f.restart(clock);
            clock.advance(Duration.ofSeconds(200));
            int calls = f.idp.refreshCalls.get();
            assertNotNull(f.s.server.connections.token(alice.id(), "svc").accessToken(), "resumed: the provider said the token is unused");
            assertEquals(calls + 1, f.idp.refreshCalls.get());
            assertFalse(f.idp.seen("/introspect").isEmpty());
            // killed after the provider used the token up: introspection says inactive, it is not sent
            store = f.s.server.stores.connections();
            r = store.get(alice.id(), "svc");
            assertTrue(store.replace(r, r.marked(clock.instant(), "a-process-that-died")));
            f.idp.forgetRefreshTokens();
            f.restart(clock);
            clock.advance(Duration.ofSeconds(200));
            calls = f.idp.refreshCalls.get();
            Connections c = f.s.server.connections;
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> c.token(alice.id(), "svc"));
            assertTrue(n.reconnect());
            assertEquals(calls, f.idp.refreshCalls.get(), "a spent refresh token is never sent");
        }
    }

    @Test
    void aCiphertextMovedToAnotherUserOrConnectionDoesNotDecrypt() throws Exception {
        try (ConnectFixture f = new ConnectFixture(dir, "\"display_name\": \"Service\"").start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            alice.connect(ALICE_AT_SVC);
            ConnectionStore store = f.s.server.stores.connections();
            ConnectionRecord a = store.get(alice.id(), "svc");
            store.put(new ConnectionRecord(bob.id(), "svc", a.keyId(), a.accessCiphertext(), a.refreshCiphertext(), a.expiresAt(), a.scopes(),
                    a.account(), a.status(), a.createdAt(), null, null, null, null, 1));
            ConnectionAccess.NotConnected n = assertThrows(ConnectionAccess.NotConnected.class, () -> f.s.server.connections.token(bob.id(), "svc"));
            assertTrue(n.getMessage().contains("cannot be read"), n.getMessage());
            // the access ciphertext in the refresh field (another field of the same connection) does not decrypt either
            io.mcpoauth.store.TokenCipher cipher = new io.mcpoauth.store.TokenCipher(java.util.Base64.getDecoder().decode(
                    Files.readString(f.s.dataDir.resolve("encryption.key")).strip()));
            assertThrows(io.mcpoauth.store.TokenCipher.Unreadable.class, () -> cipher.decrypt(a.accessCiphertext(),
                    ConnectionRecord.associatedData(alice.id(), "svc", "refresh")));
            assertThrows(io.mcpoauth.store.TokenCipher.Unreadable.class, () -> cipher.decrypt(a.accessCiphertext(),
                    ConnectionRecord.associatedData(alice.id(), "other", "access")));
            assertNotNull(cipher.decrypt(a.accessCiphertext(), ConnectionRecord.associatedData(alice.id(), "svc", "access")));
        }
    }

    @Test
    void disconnectDeletesOurCopyAndRevokesAtTheProviderAndRemovingAUserRemovesTheirConnections() {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            alice.connect(ALICE_AT_SVC);
            bob.connect(BOB_AT_SVC);
            HttpResponse<String> d = f.s.send(f.s.request("/api/me/connections/svc").header("Authorization", "Bearer " + alice.accessToken).DELETE());
            assertEquals(204, d.statusCode(), d.body());
            assertEquals("not_connected", alice.apiConnections().get(0).path("status").asText());
            assertFalse(f.idp.seen("/revoke").isEmpty(), "the provider's revocation endpoint was called");
            assertEquals("refresh_token", f.idp.seen("/revoke").get(0).form().get("token_type_hint"));
            assertEquals(404, f.s.send(f.s.request("/api/me/connections/svc").header("Authorization", "Bearer " + alice.accessToken).DELETE())
                    .statusCode());
            // a browser session needs the CSRF token for DELETE
            assertEquals(403, f.s.send(f.s.request("/api/me/connections/svc").header("Cookie", bob.sim.cookie).DELETE()).statusCode());
            assertEquals("connected", bob.apiConnections().get(0).path("status").asText(), "bob's connection is untouched");
            f.s.server.lifecycle.removeUser(bob.id());
            assertNull(f.s.server.stores.connections().get(bob.id(), "svc"), "removing a user removes their connections");
        }
    }

    @Test
    void disconnectingAProviderWithGithubsRevocationEndsTheGrantThroughItsApi() throws Exception {
        try (ConnectFixture f = new ConnectFixture(dir, null)) {
            Path file = dir.resolve("mcp-servers.json");
            Files.writeString(file, Files.readString(file).replace(f.idp.url + "/revoke\"",
                    f.idp.url + "/applications/{client_id}/grant\", \"revocation_style\": \"github\""));
            f.start();
            ConnectFixture.User alice = f.user("alice");
            alice.connect(ALICE_AT_SVC);
            HttpResponse<String> d = f.s.send(f.s.request("/api/me/connections/svc").header("Authorization", "Bearer " + alice.accessToken).DELETE());
            assertEquals(204, d.statusCode(), d.body());
            List<FakeIdp.Seen> seen = f.idp.seen("/applications/" + f.idp.clientId + "/grant");
            assertEquals(1, seen.size(), "one DELETE of the grant: " + f.idp.requests);
            assertEquals("DELETE", seen.get(0).method());
            assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString((f.idp.clientId + ":" + f.idp.clientSecret).getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                    seen.get(0).authorization());
            assertEquals(List.of(seen.get(0).form().get("access_token")), f.idp.revokedGrants, "the provider ended the grant of alice's token");
            assertTrue(f.idp.seen("/revoke").isEmpty(), "no RFC 7009 request");
            assertEquals("not_connected", alice.apiConnections().get(0).path("status").asText());
        }
    }

    @Test
    void aClientOnMcp20251125GetsUrlElicitationRequiredWithTheConnectLinkAndTheRetryWorks() {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            JsonNode r = alice.call("connection_profile", "{\"name\":\"svc\"}", "2025-11-25");
            assertEquals(-32042, r.path("error").path("code").asInt(), r.toString());
            JsonNode e = r.path("error").path("data").path("elicitations").get(0);
            assertEquals("url", e.path("mode").asText());
            assertEquals(f.s.url + "/connect/svc", e.path("url").asText(), "the link is our connect page, never pre-authenticated");
            assertFalse(e.path("elicitationId").asText().isEmpty());
            alice.connect(ALICE_AT_SVC);
            JsonNode ok = alice.call("connection_profile", "{\"name\":\"svc\"}", "2025-11-25");
            assertEquals("alice-at-svc", alice.toolJson(ok).path("profile").path("sub").asText(), ok.toString());
        }
    }
}
