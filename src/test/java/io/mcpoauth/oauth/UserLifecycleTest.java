package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.OpsFixture;
import io.mcpoauth.TestServer;
import io.mcpoauth.store.UserRecord;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Removing a user ends everything they had, and a user created again under the same name inherits none of it;
 * a password change ends the user's browser sessions (and, when asked, their grants). Over real HTTP.
 */
class UserLifecycleTest {
    @TempDir
    Path dir;

    private static int apiMe(TestServer s, OAuthClientSim browser) {
        return browser.browserGet(s.url + "/api/me").statusCode();
    }

    @Test
    void aRemovedUserSessionsGrantsCodesAndTokensEndAndARecreatedUserInheritsNone() {
        try (TestServer s = TestServer.start(dir)) {
            OpsFixture.Grant carol = OpsFixture.signIn(s, "carol");
            assertEquals(200, apiMe(s, carol.client()), "carol's browser is signed in");
            // a code approved but not yet exchanged
            Map<String, String> pending = carol.client().authorize("carol", OpsFixture.PASSWORD, "allow");
            String userId = UserRecord.localId("carol");
            // a grant that was being made while the removal ran: it exists after the removal
            s.server.admin.admin().removeUser("carol");
            RefreshTokens.Issued late = s.server.refreshTokens.create(carol.client().clientId, userId, "mcp", s.server.settings.mcpResource(), true,
                    s.server.clock.instant().minusSeconds(1));

            OAuthClientSim.addUser(s, "carol", "another password 123"); // a new carol
            assertEquals(401, OpsFixture.callTool(s, carol.accessToken(), "whoami").statusCode(), "the old access token is dead");
            TokenCodeGrantTest.invalidGrant(carol.client().refresh(carol.refreshToken()));
            TokenCodeGrantTest.invalidGrant(carol.client().exchange(pending.get("code")));
            TokenCodeGrantTest.invalidGrant(carol.client().refresh(late.refreshToken()));
            assertEquals(null, s.server.refreshTokens.get(late.family().familyId()), "the orphaned grant is revoked when presented");
            assertNotEquals(200, apiMe(s, carol.client()), "the old browser session is not the new carol's");
            // the old browser goes to a sign-in page, not straight to the new carol's consent
            HttpResponse<String> again = carol.client().browserGet(carol.client().authorizeUrl(Map.of()));
            assertTrue(again.body().contains("name=\"password\""), again.body());
        }
    }

    @Test
    void aCodeIssuedForAUserWhoWasRemovedAndCreatedAgainIsRefused() {
        try (TestServer s = TestServer.start(dir)) {
            OpsFixture.Grant dave = OpsFixture.signIn(s, "dave");
            Map<String, String> pending = dave.client().authorize("dave", OpsFixture.PASSWORD, "allow");
            // the user is removed and created again without the removal reaching the code (as in a race)
            UserRecord old = s.server.users.get(UserRecord.localId("dave"));
            assertTrue(s.server.users.remove(old.userId()));
            OAuthClientSim.addUser(s, "dave", OpsFixture.PASSWORD);
            assertTrue(s.server.users.get(old.userId()).createdAt().isAfter(old.createdAt()));
            TokenCodeGrantTest.invalidGrant(dave.client().exchange(pending.get("code")));
            assertEquals(401, OpsFixture.callTool(s, dave.accessToken(), "whoami").statusCode(), "its grant predates the new user");
        }
    }

    @Test
    void aPasswordChangeEndsTheBrowserSessionsAndWithRevokeTheGrants() {
        try (TestServer s = TestServer.start(dir)) {
            OpsFixture.Grant one = OpsFixture.signIn(s, "erin");
            OpsFixture.Grant two = OpsFixture.signIn(s, "erin"); // a second browser and client
            assertEquals(200, apiMe(s, one.client()));
            assertEquals(200, apiMe(s, two.client()));
            s.server.admin.admin().setPassword("erin", "a brand new password".toCharArray(), false);
            assertNotEquals(200, apiMe(s, one.client()), "every browser session ended");
            assertNotEquals(200, apiMe(s, two.client()));
            assertEquals(200, one.client().refresh(one.refreshToken()).statusCode(), "without --revoke the applications stay signed in");

            OpsFixture.Grant three = OpsFixture.signIn(s, "frank");
            s.server.admin.admin().setPassword("frank", "a brand new password".toCharArray(), true);
            TokenCodeGrantTest.invalidGrant(three.client().refresh(three.refreshToken()));
            assertEquals(401, OpsFixture.callTool(s, three.accessToken(), "whoami").statusCode());
            assertNotNull(s.server.users.get(UserRecord.localId("frank")), "the user stays");
        }
    }
}
