package io.mcpoauth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/** Shared steps of the operations tests, over real HTTP. */
public final class OpsFixture {
    public static final String PASSWORD = "correct horse battery";
    public static final String ADMIN_TOKEN = "admin-token-0123456789abcdef0123456789abcdef";

    private OpsFixture() {}

    /** The tokens of one completed sign-in. */
    public record Grant(OAuthClientSim client, String accessToken, String refreshToken) {}

    /** Registers a public client (POST /register), signs {@code user} in (created if needed), consents, exchanges the code. */
    public static Grant signIn(TestServer s, String user) {
        if (s.server.users.get(io.mcpoauth.store.UserRecord.localId(user)) == null) OAuthClientSim.addUser(s, user, PASSWORD);
        OAuthClientSim c = new OAuthClientSim(s);
        c.register("none");
        Map<String, String> back = c.authorize(user, PASSWORD, "allow");
        HttpResponse<String> t = c.exchange(back.get("code"));
        assertEquals(200, t.statusCode(), t.body());
        JsonNode body = TestServer.json(t);
        return new Grant(c, body.get("access_token").asText(), body.get("refresh_token").asText());
    }

    /** POST /mcp tools/call {@code name}; the raw response. */
    public static HttpResponse<String> callTool(TestServer s, String token, String name) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + name + "\",\"arguments\":{}}}";
        return s.send(s.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-11-25")
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** whoami's answer as JSON; fails unless /mcp answered 200. */
    public static JsonNode whoami(TestServer s, String token) {
        HttpResponse<String> r = callTool(s, token, "whoami");
        assertEquals(200, r.statusCode(), r.body());
        try {
            return Json.MAPPER.readTree(TestServer.json(r).path("result").path("content").path(0).path("text").asText());
        } catch (IOException e) {
            throw new AssertionError(r.body(), e);
        }
    }

    public static HttpResponse<String> admin(TestServer s, String method, String path, String json, String token) {
        HttpRequest.Builder b = s.request("/admin/api" + path);
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (json != null) b.header("Content-Type", "application/json");
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return s.send(b);
    }
}
