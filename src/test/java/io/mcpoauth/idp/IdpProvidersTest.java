package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.login.HttpResponseCheck;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.file.FileStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every provider's code path against the fake identity provider, over real HTTP. */
class IdpProvidersTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"google", "azure", "github", "oidc"})
    void signInThroughTheProviderAndUseTheUsersOwnUpstreamToken(String provider) {
        Map<String, String> extra = provider.equals("azure") ? Map.of("AZURE_TENANT", "contoso.onmicrosoft.com") : Map.of();
        try (IdpFixture f = new IdpFixture(provider, dir, extra).start()) {
            f.idp.user = new FakeIdp.User("4242", "alice@example.com", true, "Alice Example", "alice-gh");
            OAuthClientSim c = f.client();
            JsonNode tokens = f.connect(c);
            assertEquals(1, c.consentPages, "our consent page comes first");
            assertEquals(0, c.loginPages, "no local login with an upstream provider");

            // the user: <provider>:<subject>, e-mail shown (not the key), created at first sign-in
            String userId = provider + ":4242";
            UserRecord u = f.s.server.users.get(userId);
            assertNotNull(u, "user " + userId + " created");
            assertEquals(provider, u.provider());
            assertEquals("4242", u.subject());
            assertEquals("alice@example.com", u.email());
            assertEquals(Boolean.TRUE, u.emailVerified());
            assertNull(u.password());
            assertEquals(1, f.s.server.users.count());

            // the authorization request upstream: our callback, our client id, state, PKCE S256, no resource
            FakeIdp.Seen authz = f.idp.requests.stream().filter(r -> r.method().equals("GET") && r.query().containsKey("state")).findFirst().orElseThrow();
            assertEquals(f.s.url + "/oauth/callback", authz.query().get("redirect_uri"));
            assertEquals(f.idp.clientId, authz.query().get("client_id"));
            assertEquals("S256", authz.query().get("code_challenge_method"));
            assertNotNull(authz.query().get("code_challenge"));
            assertFalse(authz.query().containsKey("resource"), "resource is not forwarded upstream");
            assertFalse(authz.query().containsKey("client_secret"));
            assertFalse(authz.query().values().contains(c.state), "the client's state is not the upstream state");
            String scope = authz.query().get("scope");
            switch (provider) {
                case "google" -> {
                    assertEquals("/o/oauth2/v2/auth", authz.path());
                    assertEquals("offline", authz.query().get("access_type"));
                    assertTrue(scope.contains("openid") && scope.contains("email"), scope);
                    assertNotNull(authz.query().get("nonce"));
                }
                case "azure" -> {
                    assertEquals("/contoso.onmicrosoft.com/oauth2/v2.0/authorize", authz.path());
                    assertTrue(scope.contains("offline_access"), scope);
                    assertNotNull(authz.query().get("nonce"));
                }
                case "github" -> {
                    assertEquals("/login/oauth/authorize", authz.path());
                    assertTrue(scope.contains("user:email"), scope);
                    assertNull(authz.query().get("nonce"));
                }
                default -> {
                    assertEquals("/authorize", authz.path());
                    assertTrue(scope.contains("offline_access"), "offline_access asked because discovery lists it: " + scope);
                    assertNotNull(authz.query().get("nonce"));
                }
            }
            // the code exchange: with the PKCE verifier, our client secret only here, no resource
            FakeIdp.Seen exchange = f.idp.tokenRequests("authorization_code").get(0);
            assertNotNull(exchange.form().get("code_verifier"));
            assertFalse(exchange.form().containsKey("resource"));
            boolean secretSent = exchange.form().containsKey("client_secret") || exchange.authorization() != null && exchange.authorization().startsWith("Basic ");
            assertTrue(secretSent, "client authentication at the token endpoint");

            // the tool uses the user's own upstream token
            JsonNode result = f.tool(tokens.get("access_token").asText(), "upstream_profile");
            assertFalse(result.path("isError").asBoolean(), result.toString());
            JsonNode profile = IdpFixture.toolJson(result);
            assertEquals(provider, profile.path("provider").asText());
            assertEquals("4242", profile.path("profile").path(provider.equals("github") ? "id" : "sub").asText());
            FakeIdp.Seen profileCall = f.idp.requests.get(f.idp.requests.size() - 1);
            assertTrue(profileCall.authorization().startsWith("Bearer idp-at-"), "the provider's own token: " + profileCall.authorization());

            // stored encrypted: one record, ciphertext only; no token the provider issued appears in any file
            IdpTokenRecord rec = f.s.server.upstream.store.get(userId);
            assertNotNull(rec);
            assertTrue(rec.ciphertext().startsWith("v1."));
            assertTrue(rec.refreshable());
            assertTrue(Files.exists(f.dataDir.resolve(io.mcpoauth.store.file.FileStores.IDP_TOKENS)));
            String files = f.allFiles();
            for (String t : f.idp.issued) assertFalse(files.contains(t), "an upstream token is stored in clear");
            assertFalse(files.contains(f.idp.clientSecret), "the upstream client secret is not written anywhere");

            // the client's bearer token never reaches the provider
            for (String seen : f.everythingTheProviderSaw()) {
                assertFalse(seen.contains(tokens.get("access_token").asText()) || seen.contains("mcpat_") || seen.contains("mcprt_"), seen);
            }
        }
    }

    @Test
    void githubKeysByTheNumericIdAndUsesThePrimaryVerifiedEmail() {
        try (IdpFixture f = new IdpFixture("github", dir).start()) {
            f.idp.user = new FakeIdp.User("777", "octo@example.com", true, "Octo Cat", "octocat");
            f.connect(f.client());
            UserRecord u = f.s.server.users.get("github:777");
            assertNotNull(u);
            assertEquals("octocat", u.username());
            assertEquals("octo@example.com", u.email());
            assertEquals(Boolean.TRUE, u.emailVerified());
        }
    }

    @Test
    void emailIsShownNotTheKey() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            f.idp.user = new FakeIdp.User("sub-1", "same@example.com", true, "One", "one");
            f.connect(f.client());
            f.idp.user = new FakeIdp.User("sub-2", "same@example.com", true, "Two", "two");
            f.connect(f.client());
            assertNotNull(f.s.server.users.get("oidc:sub-1"));
            assertNotNull(f.s.server.users.get("oidc:sub-2"));
            assertEquals(2, f.s.server.users.count(), "two subjects with one e-mail are two users");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"google", "oidc"})
    void unverifiedEmailIsRefusedWhenAnAllowListApplies(String provider) {
        try (IdpFixture f = new IdpFixture(provider, dir, Map.of("ALLOWED_DOMAINS", "example.com")).start()) {
            f.idp.user = new FakeIdp.User("9", "mallory@example.com", false, "Mallory", "mallory");
            OAuthClientSim c = f.client();
            Map<String, String> back = c.authorize(null, null, "allow");
            assertEquals("access_denied", back.get("error"));
            assertEquals(c.state, back.get("state"));
            assertEquals(f.s.url, back.get("iss"));
            assertEquals(0, f.s.server.users.count(), "no user created");
            assertEquals(0, f.s.server.upstream.store.count(), "no upstream token stored");
        }
    }

    @Test
    void allowListsAdmitListedAddressesAndDomainsOnly() {
        Map<String, String> lists = Map.of("ALLOWED_EMAILS", "Boss@Partner.org", "ALLOWED_DOMAINS", "example.com");
        try (IdpFixture f = new IdpFixture("google", dir, lists).start()) {
            f.idp.user = new FakeIdp.User("1", "alice@example.com", true, "Alice", "a");
            f.connect(f.client());
            f.idp.user = new FakeIdp.User("2", "boss@partner.org", true, "Boss", "b");
            f.connect(f.client());
            f.idp.user = new FakeIdp.User("3", "eve@example.com.evil.net", true, "Eve", "e");
            OAuthClientSim c = f.client();
            assertEquals("access_denied", c.authorize(null, null, "allow").get("error"));
            assertEquals(2, f.s.server.users.count());
            assertNull(f.s.server.users.get("google:3"));
        }
    }

    @Test
    void upstreamScopesAreAskedForAndShown() {
        try (IdpFixture f = new IdpFixture("google", dir, Map.of("UPSTREAM_SCOPES", "https://www.googleapis.com/auth/drive.readonly")).start()) {
            f.connect(f.client());
            FakeIdp.Seen authz = f.idp.seen("/o/oauth2/v2/auth").get(0);
            assertTrue(authz.query().get("scope").endsWith("https://www.googleapis.com/auth/drive.readonly"), authz.query().get("scope"));
            IdpTokenRecord r = f.s.server.upstream.store.get("google:alice-sub");
            assertTrue(r.scopes().contains("https://www.googleapis.com/auth/drive.readonly"), r.scopes().toString());
        }
    }

    @Test
    void anIdTokenNamingAnotherSubjectIsRefused() {
        try (IdpFixture f = new IdpFixture("oidc", dir).start()) {
            f.idp.idTokenSub = "someone-else";
            OAuthClientSim c = f.client();
            String answer = f.providerAnswer(c, f.toProvider(c));
            HttpResponseCheck.page(c.browserGet(answer), 502, "different users");
            assertEquals(0, f.s.server.users.count());
        }
    }

    @Test
    void withoutAUserinfoEndpointTheSubjectComesFromTheIdToken() {
        try (FakeIdp idp = new FakeIdp()) {
            idp.discoveryUserinfo = false;
            Map<String, String> env = new HashMap<>(IdpFixture.env("oidc", idp));
            try (TestServer s = TestServer.start(dir, env)) {
                OAuthClientSim c = new OAuthClientSim(s);
                c.registerDirect();
                String code = c.authorize(null, null, "allow").get("code");
                assertNotNull(code);
                UserRecord u = s.server.users.get("oidc:alice-sub");
                assertNotNull(u, "subject read from the id_token");
                assertEquals("alice@example.com", u.email());
                assertEquals(List.of(), idp.seen("/userinfo"));

                idp.sendIdToken = false;
                idp.user = FakeIdp.User.of("bob-sub", "bob@example.com");
                OAuthClientSim d = new OAuthClientSim(s);
                d.registerDirect();
                java.net.http.HttpResponse<String> consent = d.browserGet(d.authorizeUrl(Map.of()));
                Map<String, String> form = OAuthClientSim.hiddenFields(consent.body());
                form.put("decision", "allow");
                String toIdp = d.browserPost("/consent", form).headers().firstValue("Location").orElseThrow();
                String answer = d.browserGet(toIdp).headers().firstValue("Location").orElseThrow();
                HttpResponseCheck.page(d.browserGet(answer), 502, "neither an id_token nor");
                assertNull(s.server.users.get("oidc:bob-sub"));
            }
        }
    }

    @Test
    void oidcDiscoveryProblemsStopTheStartNamingOidcIssuer() {
        try (FakeIdp idp = new FakeIdp()) {
            Map<String, String> env = new HashMap<>(IdpFixture.env("oidc", idp));
            env.put("OIDC_ISSUER", "http://127.0.0.1:" + TestServer.freePort());
            ConfigException down = assertThrows(ConfigException.class, () -> TestServer.start(dir.resolve("a"), env));
            assertTrue(down.getMessage().startsWith("OIDC_ISSUER=http://127.0.0.1:"), down.getMessage());
            assertTrue(down.getMessage().contains(".well-known/openid-configuration"), down.getMessage());

            env.put("OIDC_ISSUER", idp.url + "/");
            ConfigException mismatch = assertThrows(ConfigException.class, () -> TestServer.start(dir.resolve("b"), env));
            assertTrue(mismatch.getMessage().contains("names the issuer '" + idp.url + "'"), mismatch.getMessage());

            env.put("OIDC_ISSUER", "http://idp.example.com");
            ConfigException plain = assertThrows(ConfigException.class, () -> TestServer.start(dir.resolve("c"), env));
            assertTrue(plain.getMessage().startsWith("OIDC_ISSUER=http://idp.example.com: expected an https URL"), plain.getMessage());

            env.put("OIDC_ISSUER", idp.url);
            env.remove("OIDC_CLIENT_ID");
            ConfigException noClient = assertThrows(ConfigException.class, () -> TestServer.start(dir.resolve("d"), env));
            assertTrue(noClient.getMessage().startsWith("OIDC_CLIENT_ID: required when AUTH_PROVIDER=oidc"), noClient.getMessage());
        }
    }

    @Test
    void secretsAreRequiredAndNeverPrinted() {
        Map<String, String> env = new HashMap<>(Map.of("AUTH_PROVIDER", "google", "GOOGLE_CLIENT_ID", "id"));
        ConfigException e = assertThrows(ConfigException.class, () -> TestServer.start(dir, env));
        assertTrue(e.getMessage().startsWith("GOOGLE_CLIENT_SECRET: required"), e.getMessage());
        env.put("GOOGLE_CLIENT_SECRET", "super-secret-value");
        env.put("ENCRYPTION_KEY", "not-a-key-super-secret");
        ConfigException k = assertThrows(ConfigException.class, () -> TestServer.start(dir, env));
        assertEquals("ENCRYPTION_KEY=<hidden>: expected 32 random bytes in base64, e.g. from `openssl rand -base64 32`", k.getMessage());
        assertFalse(k.getMessage().contains("super-secret"), k.getMessage());
    }

    @Test
    void localSignInHasNoUpstreamToolAndToolsSayWhy() {
        try (TestServer s = TestServer.start(dir)) {
            assertNull(s.server.upstream);
            OAuthClientSim.addUser(s, "alice", "correct horse battery");
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            String code = c.authorize("alice", "correct horse battery", "allow").get("code");
            String at = TestServer.json(c.exchange(code)).get("access_token").asText();
            io.mcpoauth.core.AuthContext ctx = s.server.bearer.authenticate(at);
            assertNull(ctx.upstream());
            assertThrows(io.mcpoauth.core.IdpAccess.ReauthenticationRequired.class, ctx::upstreamAccessToken);
        }
    }
}
