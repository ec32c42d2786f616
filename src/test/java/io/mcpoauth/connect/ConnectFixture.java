package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.idp.FakeIdp;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * A server with local users and one OAuth connection, {@code svc}, whose provider is a {@link FakeIdp} on another
 * port (discovered from its issuer), plus a user's browser-and-client helper.
 */
final class ConnectFixture implements AutoCloseable {
    static final String PASSWORD = "correct horse battery";
    final FakeIdp idp = new FakeIdp();
    final Path dir;
    final Map<String, String> env = new HashMap<>();
    TestServer s;

    ConnectFixture(Path dir, String extraConnectionJson) {
        this.dir = dir;
        Path file = dir.resolve("mcp-servers.json");
        String json = "{\"servers\": {}, \"connections\": {\"svc\": {\"issuer\": \"" + idp.url + "\", \"client_id\": \"" + idp.clientId
                + "\", \"client_secret\": \"${SVC_SECRET}\", \"scopes\": [\"openid\", \"email\"], \"revocation_endpoint\": \"" + idp.url + "/revoke\""
                + (extraConnectionJson == null ? "" : ", " + extraConnectionJson) + "}}}";
        try {
            Files.writeString(file, json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        env.put("MCP_SERVERS_FILE", file.toString());
        env.put("SVC_SECRET", idp.clientSecret);
    }

    ConnectFixture start(Clock clock) {
        s = TestServer.start(dir.resolve("data"), env, clock);
        return this;
    }

    ConnectFixture start() {
        return start(Clock.systemUTC());
    }

    void restart(Clock clock) {
        s.close();
        start(clock);
    }

    /** One user: a browser signed in (through an OAuth authorization of a client) and that client's access token. */
    final class User {
        final String name;
        final OAuthClientSim sim;
        String accessToken;
        String refreshToken;

        User(String name) {
            this.name = name;
            OAuthClientSim.addUser(s, name, PASSWORD);
            sim = new OAuthClientSim(s);
            sim.registerDirect();
            Map<String, String> back = sim.authorize(name, PASSWORD, "allow");
            HttpResponse<String> t = sim.exchange(back.get("code"));
            assertEquals(200, t.statusCode(), t.body());
            accessToken = TestServer.json(t).get("access_token").asText();
            refreshToken = TestServer.json(t).path("refresh_token").asText(null);
        }

        /** A new access token from the refresh token, as the client does after a restart (same client, same grant). */
        void refresh() {
            HttpResponse<String> t = sim.refresh(refreshToken);
            assertEquals(200, t.statusCode(), t.body());
            accessToken = TestServer.json(t).get("access_token").asText();
            refreshToken = TestServer.json(t).path("refresh_token").asText(refreshToken);
        }

        String id() {
            return "local:" + name;
        }

        /** GET /connect/svc in this user's browser: the provider's authorization URL. */
        String startConnect() {
            HttpResponse<String> r = sim.browserGet(s.url + "/connect/svc");
            assertEquals(303, r.statusCode(), r.body());
            String loc = r.headers().firstValue("Location").orElseThrow();
            assertTrue(loc.startsWith(idp.url + "/authorize?"), loc);
            return loc;
        }

        /** The provider approves (as {@code as}) and sends the browser back: the callback URL. */
        String approve(String authorizeUrl, FakeIdp.User as) {
            idp.user = as;
            HttpResponse<String> r = sim.browserGet(authorizeUrl);
            assertEquals(302, r.statusCode(), r.body());
            return r.headers().firstValue("Location").orElseThrow();
        }

        HttpResponse<String> callback(String url) {
            return sim.browserGet(url);
        }

        /** The whole flow; the account page afterwards. */
        void connect(FakeIdp.User as) {
            HttpResponse<String> r = callback(approve(startConnect(), as));
            assertEquals(303, r.statusCode(), r.body());
            assertEquals("/account", r.headers().firstValue("Location").orElseThrow());
        }

        JsonNode apiConnections() {
            HttpResponse<String> r = s.get("/api/me/connections", "Authorization", "Bearer " + accessToken);
            assertEquals(200, r.statusCode(), r.body());
            return TestServer.json(r).get("connections");
        }

        /** A tools/call over /mcp with this user's access token. */
        JsonNode call(String tool, String argsJson, String version) {
            String body = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":"
                    + argsJson + "}}";
            HttpRequest.Builder b = s.request("/mcp").header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .header("Authorization", "Bearer " + accessToken).header("MCP-Protocol-Version", version)
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = s.send(b);
            assertEquals(200, r.statusCode(), r.body());
            return TestServer.json(r);
        }

        JsonNode toolJson(JsonNode reply) {
            try {
                return Json.MAPPER.readTree(reply.path("result").path("content").path(0).path("text").asText());
            } catch (IOException e) {
                throw new AssertionError(reply.toString());
            }
        }
    }

    User user(String name) {
        return new User(name);
    }

    @Override
    public void close() {
        if (s != null) s.close();
        idp.close();
    }
}
