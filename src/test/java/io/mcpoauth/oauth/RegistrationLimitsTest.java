package io.mcpoauth.oauth;

import static io.mcpoauth.oauth.RegistrationTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
            assertEquals(3, s.server.clients.size());
            // bad requests count too, so a flood of garbage is limited the same way
            assertEquals(429, s.postJson("/register", "garbage").statusCode());

            clock.advance(Duration.ofSeconds(retry));
            assertEquals(201, s.postJson("/register", RegistrationTest.CLAUDE).statusCode());
        }
    }

    @Test
    void theGlobalCapAnswers503InWordsAnAdminUnderstands() {
        try (TestServer s = TestServer.start(dir, Map.of("MAX_CLIENTS", "2"))) {
            assertEquals(201, s.postJson("/register", RegistrationTest.CLAUDE).statusCode());
            assertEquals(201, s.postJson("/register", RegistrationTest.CLAUDE).statusCode());
            HttpResponse<String> r = s.postJson("/register", RegistrationTest.CLAUDE);
            assertError(r, 503, "temporarily_unavailable");
            String d = TestServer.json(r).get("error_description").asText();
            assertTrue(d.contains("MAX_CLIENTS") && d.contains("2"), d);
            assertEquals(2, s.server.clients.size());
        }
    }
}
