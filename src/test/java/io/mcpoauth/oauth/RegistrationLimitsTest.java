package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.TestClock;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration floods: a per-address rate limit and a global cap on stored clients. */
class RegistrationLimitsTest {
    @TempDir
    Path dir;

    @Test
    void aFloodFromOneAddressGets429WithRetryAfterUntilTheWindowPasses() {
        TestClock clock = new TestClock();
        try (TestServer s = TestServer.start(dir, Map.of("REGISTRATION_RATE_LIMIT", "3"), clock)) {
            for (int i = 0; i < 3; i++) assertEquals(201, s.postJson("/register", RegistrationTest.CLAUDE).statusCode());
            HttpResponse<String> r = s.postJson("/register", RegistrationTest.CLAUDE);
            assertError(r, 429, "temporarily_unavailable");
            long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
            assertTrue(TestServer.json(r).get("error_description").asText().contains("3 per minute"));
            assertEquals(3, s.server.clients.count());
            // bad requests count too, so a flood of garbage is limited the same way
            assertEquals(429, s.postJson("/register", "garbage").statusCode());

            clock.advance(Duration.ofSeconds(retry));
            assertEquals(201, s.postJson("/register", RegistrationTest.CLAUDE).statusCode());
        }
    }

    @Test
    void atTheGlobalCapTheOldestNeverUsedClientMakesRoom() {
        try (TestServer s = TestServer.start(dir, Map.of("MAX_CLIENTS", "2"))) {
            String first = TestServer.json(s.postJson("/register", RegistrationTest.CLAUDE)).get("client_id").asText();
            String second = TestServer.json(s.postJson("/register", RegistrationTest.CLAUDE)).get("client_id").asText();
            String third = TestServer.json(s.postJson("/register", RegistrationTest.CLAUDE)).get("client_id").asText();
            assertEquals(2, s.server.clients.count());
            assertNull(s.server.clients.get(first), "the oldest registration that never completed a grant made room");
            assertNotNull(s.server.clients.get(second));
            assertNotNull(s.server.clients.get(third));
        }
    }

    @Test
    void whenEveryStoredClientWasUsedTheCapAnswers503InWordsAnAdminUnderstands() {
        try (TestServer s = TestServer.start(dir, Map.of("MAX_CLIENTS", "2"))) {
            for (int i = 0; i < 2; i++) {
                String id = TestServer.json(s.postJson("/register", RegistrationTest.CLAUDE)).get("client_id").asText();
                s.server.clients.markUsed(id, java.time.Instant.now()); // as when it completes a sign-in
            }
            HttpResponse<String> r = s.postJson("/register", RegistrationTest.CLAUDE);
            assertError(r, 503, "temporarily_unavailable");
            String d = TestServer.json(r).get("error_description").asText();
            assertTrue(d.contains("MAX_CLIENTS") && d.contains("2"), d);
            assertEquals(2, s.server.clients.count());
        }
    }
}
