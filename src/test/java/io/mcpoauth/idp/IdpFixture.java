package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.login.AuthorizationFlow;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A {@link FakeIdp} and a real server signing users in through it with {@code AUTH_PROVIDER=<provider>}, plus the
 * browser steps of the upstream flow and an MCP tool call.
 */
public final class IdpFixture implements AutoCloseable {
    public final String provider;
    public final FakeIdp idp;
    public final Path dataDir;
    public final Map<String, String> env = new HashMap<>();
    public final Clock clock;
    public TestServer s;

    public IdpFixture(String provider, Path dataDir, Map<String, String> extraEnv, Clock clock) {
        this.provider = provider;
        this.idp = new FakeIdp();
        this.dataDir = dataDir;
        this.clock = clock;
        env.putAll(env(provider, idp));
        env.put("PORT", String.valueOf(TestServer.freePort()));
        env.putAll(extraEnv);
    }

    public IdpFixture(String provider, Path dataDir, Map<String, String> extraEnv) {
        this(provider, dataDir, extraEnv, Clock.systemUTC());
    }

    public IdpFixture(String provider, Path dataDir) {
        this(provider, dataDir, Map.of());
    }

    /** The settings that send {@code provider} to the fake: its endpoints (discovery for oidc), client id and secret. */
    public static Map<String, String> env(String provider, FakeIdp idp) {
        Map<String, String> m = new HashMap<>();
        String p = provider.toUpperCase(Locale.ROOT);
        m.put("AUTH_PROVIDER", provider);
        m.put(p + "_CLIENT_ID", idp.clientId);
        m.put(p + "_CLIENT_SECRET", idp.clientSecret);
        if (provider.equals("oidc")) m.put("OIDC_ISSUER", idp.url);
        else m.put("UPSTREAM_TEST_BASE_URL", idp.url);
        m.put("UPSTREAM_TIMEOUT", "2");
        return m;
    }

    public IdpFixture start() {
        s = TestServer.start(dataDir, env, clock);
        return this;
    }

    public void restart() {
        s.close();
        s = TestServer.start(dataDir, env, clock);
    }

    /** A client registered straight into the store, as in the other flow tests. */
    public OAuthClientSim client() {
        OAuthClientSim c = new OAuthClientSim(s);
        c.registerDirect();
        return c;
    }

    /** Runs the whole browser flow (consent, provider, callback) and exchanges the code: the token response. */
    public JsonNode connect(OAuthClientSim c) {
        Map<String, String> back = c.authorize(null, null, "allow");
        assertEquals(c.state, back.get("state"));
        assertTrue(back.containsKey("code"), back.toString());
        HttpResponse<String> tr = c.exchange(back.get("code"));
        assertEquals(200, tr.statusCode(), tr.body());
        return TestServer.json(tr);
    }

    /** GET /authorize, Allow on our consent page: the 303 Location that sends the browser to the provider. */
    public String toProvider(OAuthClientSim c) {
        HttpResponse<String> r = c.browserGet(c.authorizeUrl(Map.of()));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, String> form = OAuthClientSim.hiddenFields(r.body());
        form.put("decision", "allow");
        HttpResponse<String> d = c.browserPost("/consent", form);
        assertEquals(303, d.statusCode(), d.body());
        String loc = d.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(idp.url), loc);
        return loc;
    }

    /** The provider's answer (its 302 back to our callback), not followed. */
    public String providerAnswer(OAuthClientSim c, String providerUrl) {
        HttpResponse<String> r = c.browserGet(providerUrl);
        assertEquals(302, r.statusCode(), r.body());
        String loc = r.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(s.url + AuthorizationFlow.CALLBACK_PATH), loc);
        return loc;
    }

    /** POST /mcp tools/call with {@code token}: the JSON-RPC result ({content, isError}). */
    public JsonNode tool(String token, String name) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + name + "\",\"arguments\":{}}}";
        HttpResponse<String> r = s.send(s.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-11-25")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode result = TestServer.json(r).path("result");
        assertTrue(result.has("content"), r.body());
        return result;
    }

    public static String text(JsonNode toolResult) {
        return toolResult.path("content").path(0).path("text").asText();
    }

    public static JsonNode toolJson(JsonNode toolResult) {
        try {
            return Json.MAPPER.readTree(text(toolResult));
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + toolResult, e);
        }
    }

    /** Every file of the data directory, as text (to look for secrets). */
    public String allFiles() {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) b.append(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toString();
    }

    /** Every Authorization header, query and form value the provider ever received. */
    public List<String> everythingTheProviderSaw() {
        List<String> out = new java.util.ArrayList<>();
        for (FakeIdp.Seen r : idp.requests) {
            if (r.authorization() != null) out.add(r.authorization());
            out.addAll(r.query().values());
            out.addAll(r.form().values());
        }
        return out;
    }

    @Override
    public void close() {
        if (s != null) s.close();
        idp.close();
    }
}
