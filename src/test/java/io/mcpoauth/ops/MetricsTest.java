package io.mcpoauth.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.OpsFixture;
import io.mcpoauth.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics: Prometheus text format, mcp_oauth_* names with HELP and TYPE, and the counts of a real flow. */
class MetricsTest {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\"(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*)\\})? "
                    + "(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN)");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)");

    @TempDir
    Path dir;

    @Test
    void countsOfARealFlowInPrometheusTextFormat() {
        try (TestServer s = TestServer.start(dir.resolve("data"))) {
            OAuthClientSim.addUser(s, "alice", OpsFixture.PASSWORD);
            // a failed sign-in
            OAuthClientSim failing = new OAuthClientSim(s);
            failing.registerDirect();
            HttpResponse<String> page = failing.browserGet(failing.authorizeUrl(Map.of()));
            Map<String, String> form = OAuthClientSim.hiddenFields(page.body());
            form.put("username", "alice");
            form.put("password", "wrong password here");
            assertEquals(401, failing.browserPost("/login", form).statusCode());

            OpsFixture.Grant g = OpsFixture.signIn(s, "alice");
            assertEquals(200, OpsFixture.callTool(s, g.accessToken(), "whoami").statusCode());
            String rt1 = TestServer.json(g.client().refresh(g.refreshToken())).get("refresh_token").asText();
            assertEquals(200, g.client().refresh(rt1).statusCode());
            assertEquals(400, g.client().refresh(g.refreshToken()).statusCode(), "reuse of a retired token");
            assertEquals(400, s.postForm("/token", TestServer.map("grant_type", "password", "client_id", g.client().clientId)).statusCode());

            HttpResponse<String> health = s.get("/healthz");
            assertEquals(200, health.statusCode());
            assertEquals("ok", TestServer.json(health).get("status").asText());
            assertEquals("ok", TestServer.json(health).get("store").asText());

            HttpResponse<String> r = s.get("/metrics");
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(null));
            Map<String, Double> v = parse(r.body());

            assertEquals(1, v.get("mcp_oauth_registrations_total"), "POST /register only (the failing client was put in the store directly)");
            assertEquals(1, v.get("mcp_oauth_sign_ins_total{outcome=\"failure\"}"));
            assertEquals(1, v.get("mcp_oauth_sign_ins_total{outcome=\"success\"}"));
            assertEquals(1, v.get("mcp_oauth_authorizations_total{outcome=\"approved\"}"));
            assertEquals(0, v.get("mcp_oauth_authorizations_total{outcome=\"denied\"}"));
            assertEquals(1, v.get("mcp_oauth_token_grants_total{grant_type=\"authorization_code\"}"));
            assertEquals(2, v.get("mcp_oauth_token_grants_total{grant_type=\"refresh_token\"}"));
            assertEquals(1, v.get("mcp_oauth_token_failures_total{grant_type=\"refresh_token\",error=\"invalid_grant\"}"));
            assertEquals(1, v.get("mcp_oauth_token_failures_total{grant_type=\"other\",error=\"unsupported_grant_type\"}"));
            assertEquals(1, v.get("mcp_oauth_refresh_reuse_detected_total{kind=\"refresh_token\"}"));
            assertEquals(0, v.get("mcp_oauth_refresh_families"), "the reused grant was revoked");
            assertEquals(2, v.get("mcp_oauth_clients"));
            assertEquals(1, v.get("mcp_oauth_users"));
            assertEquals(1, v.get("mcp_oauth_tool_calls_total{tool=\"whoami\"}"));
            assertEquals(1, v.get("mcp_oauth_store_healthy"));
            assertTrue(v.get("mcp_oauth_access_tokens") >= 0);

            for (String h : List.of("mcp_oauth_store_commit_duration_seconds", "mcp_oauth_store_commit_batch_size")) {
                double count = v.get(h + "_count");
                assertTrue(count > 0, h);
                assertEquals(count, v.get(h + "_bucket{le=\"+Inf\"}"), h + ": +Inf equals the count");
                double prev = 0;
                for (Map.Entry<String, Double> e : v.entrySet()) {
                    if (!e.getKey().startsWith(h + "_bucket")) continue;
                    assertTrue(e.getValue() >= prev, "cumulative buckets: " + e.getKey());
                    prev = e.getValue();
                }
            }
            assertTrue(v.get("mcp_oauth_store_commit_batch_size_sum") >= v.get("mcp_oauth_store_commit_batch_size_count"));
        }
    }

    @Test
    void aReplayedCodeIsCountedAsReuse() {
        try (TestServer s = TestServer.start(dir.resolve("data"))) {
            OAuthClientSim.addUser(s, "alice", OpsFixture.PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.register("none");
            String code = c.authorize("alice", OpsFixture.PASSWORD, "allow").get("code");
            assertEquals(200, c.exchange(code).statusCode());
            assertEquals(400, c.exchange(code).statusCode());
            Map<String, Double> v = parse(s.get("/metrics").body());
            assertEquals(1, v.get("mcp_oauth_refresh_reuse_detected_total{kind=\"authorization_code\"}"));
            assertEquals(0, v.get("mcp_oauth_refresh_reuse_detected_total{kind=\"refresh_token\"}"));
            assertEquals(1, v.get("mcp_oauth_token_failures_total{grant_type=\"authorization_code\",error=\"invalid_grant\"}"));
            assertEquals(0, v.get("mcp_oauth_refresh_families"), "the grant of the replayed code was revoked");
        }
    }

    /** Checks the format line by line (HELP and TYPE before every family's samples) and returns sample values in order. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> values = new LinkedHashMap<>();
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        assertTrue(text.endsWith("\n"), "ends with a newline");
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                Matcher m = COMMENT.matcher(line);
                assertTrue(m.matches(), "comment line: " + line);
                assertTrue(m.group(2).startsWith("mcp_oauth_"), line);
                if (m.group(1).equals("HELP")) {
                    assertTrue(helped.add(m.group(2)), "one HELP per family: " + line);
                } else {
                    assertTrue(helped.contains(m.group(2)), "HELP before TYPE: " + line);
                    assertTrue(List.of("counter", "gauge", "histogram").contains(m.group(3)), line);
                    assertFalse(types.containsKey(m.group(2)), "one TYPE per family: " + line);
                    types.put(m.group(2), m.group(3));
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "sample line: " + line);
            String name = m.group(1);
            String family = types.containsKey(name) ? name : name.replaceAll("_(bucket|sum|count)$", "");
            assertTrue(types.containsKey(family), "TYPE before the samples of " + name);
            if (!family.equals(name)) assertEquals("histogram", types.get(family), line);
            if (types.get(family).equals("counter")) assertTrue(name.endsWith("_total"), "counters end in _total: " + name);
            String v = m.group(4);
            values.put(name + (m.group(2) == null ? "" : m.group(2)), v.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v));
        }
        return values;
    }
}
