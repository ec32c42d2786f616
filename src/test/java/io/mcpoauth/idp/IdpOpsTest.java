package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestClock;
import io.mcpoauth.ops.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Upstream sign-in as operations see it: refresh outcomes in /metrics, upstream sign-ins in the audit log. */
class IdpOpsTest {
    @TempDir
    Path dir;

    @Test
    void refreshOutcomesAreCountedAndSignInsAudited() throws Exception {
        TestClock clock = new TestClock();
        Path audit = dir.resolve("audit.log");
        try (IdpFixture f = new IdpFixture("oidc", dir.resolve("data"), Map.of("AUDIT_LOG", audit.toString()), clock).start()) {
            f.idp.expiresIn = 120;
            JsonNode t = f.connect(f.client());
            clock.advance(Duration.ofSeconds(90));
            String at = t.get("access_token").asText();
            assertFalse(f.tool(at, "upstream_profile").path("isError").asBoolean());

            clock.advance(Duration.ofSeconds(120));
            f.idp.refreshMode = FakeIdp.Mode.INVALID_GRANT;
            assertTrue(f.tool(at, "upstream_profile").path("isError").asBoolean());

            Metrics m = f.s.server.ops.metrics();
            assertEquals(1, m.upstreamRefresh.get("refreshed"));
            assertEquals(1, m.upstreamRefresh.get("invalid_grant"));
            String text = f.s.get("/metrics").body();
            assertTrue(text.contains("mcp_oauth_upstream_refresh_total{outcome=\"refreshed\"} 1\n"), text);
            assertTrue(text.contains("mcp_oauth_upstream_refresh_total{outcome=\"invalid_grant\"} 1\n"), text);
        }
        String lines = Files.readString(audit);
        assertTrue(lines.contains("\"event\":\"sign_in\",\"outcome\":\"success\",\"user\":\"oidc:alice-sub\""), lines);
        assertTrue(lines.contains("\"event\":\"consent_given\""), lines);
        assertFalse(lines.contains("idp-rt-") || lines.contains("idp-at-"), "no upstream token in the audit log");
    }
}
