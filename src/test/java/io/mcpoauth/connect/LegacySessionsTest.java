package io.mcpoauth.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Json;
import io.mcpoauth.idp.FakeIdp;
import io.mcpoauth.resource.ServerStreams;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Legacy sessions over real HTTP: the {@code Mcp-Session-Id} of an initialize carries the client's capabilities (so
 * only a 2025-11-25 client that declared {@code elicitation.url} gets -32042), is bound to its user, survives a
 * restart, and opens a GET stream on which {@code notifications/elicitation/complete} arrives once the user connected
 * in the browser.
 */
class LegacySessionsTest {
    static final FakeIdp.User ALICE_AT_SVC = FakeIdp.User.of("alice-at-svc", "alice@svc.example");
    static final String URL_CAPS = "{\"elicitation\":{\"url\":{}}}";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpRequest.Builder mcp(ConnectFixture f, ConnectFixture.User u, String version, String session) {
        HttpRequest.Builder b = f.s.request("/mcp").header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .header("Authorization", "Bearer " + u.accessToken);
        if (version != null) b.header("MCP-Protocol-Version", version);
        if (session != null) b.header("Mcp-Session-Id", session);
        return b;
    }

    /** initialize at {@code version} declaring {@code capsJson}: the session id. */
    private static String initialize(ConnectFixture f, ConnectFixture.User u, String version, String capsJson) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + version
                + "\",\"capabilities\":" + capsJson + ",\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
        HttpResponse<String> r = f.s.send(mcp(f, u, null, null).POST(HttpRequest.BodyPublishers.ofString(body)));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(version, TestServer.json(r).path("result").path("protocolVersion").asText());
        String id = r.headers().firstValue("Mcp-Session-Id").orElseThrow(() -> new AssertionError("no Mcp-Session-Id: " + r.headers()));
        assertTrue(id.chars().allMatch(c -> c >= 0x21 && c <= 0x7e), "visible ASCII only: " + id);
        return id;
    }

    private static HttpResponse<String> callProfile(ConnectFixture f, ConnectFixture.User u, String version, String session) {
        String body = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"connection_profile\",\"arguments\":{\"name\":\"svc\"}}}";
        return f.s.send(mcp(f, u, version, session).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static HttpResponse<String> toolsList(ConnectFixture f, ConnectFixture.User u, String version, String session) {
        return f.s.send(mcp(f, u, version, session).POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}")));
    }

    /** An open GET stream: its lines arrive in {@link #lines}. */
    private final class Stream implements AutoCloseable {
        final HttpResponse<InputStream> response;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        volatile boolean ended;

        Stream(ConnectFixture f, ConnectFixture.User u, String session) throws Exception {
            response = http.send(f.s.request("/mcp").header("Accept", "text/event-stream").header("Authorization", "Bearer " + u.accessToken)
                    .header("Mcp-Session-Id", session).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) return;
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) lines.add(line);
                } catch (IOException e) {
                    // closed
                } finally {
                    ended = true;
                }
            });
            t.setDaemon(true);
            t.start();
        }

        /** The next {@code data:} line's JSON, waiting at most {@code seconds}. */
        JsonNode nextMessage(int seconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(200, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith("data: ")) return Json.MAPPER.readTree(line.substring(6));
            }
            throw new AssertionError("no message on the stream within " + seconds + " s; lines: " + lines);
        }

        @Override
        public void close() throws IOException {
            if (response.statusCode() == 200) response.body().close();
        }
    }

    @Test
    void aSessionCarriesTheDeclaredCapabilitiesIsBoundToItsUserAndSurvivesARestart() {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            String withUrl = initialize(f, alice, "2025-11-25", URL_CAPS);
            String formOnly = initialize(f, alice, "2025-11-25", "{\"elicitation\":{}}");
            assertNotEquals(withUrl, initialize(f, alice, "2025-11-25", URL_CAPS), "every initialize starts a session of its own");

            // the client declared elicitation.url: URLElicitationRequiredError
            JsonNode r = TestServer.json(callProfile(f, alice, "2025-11-25", withUrl));
            assertEquals(-32042, r.path("error").path("code").asInt(), r.toString());
            // form elicitation only: the tool error with the link, never -32042
            r = TestServer.json(callProfile(f, alice, "2025-11-25", formOnly));
            assertTrue(r.path("result").path("isError").asBoolean(), r.toString());
            assertTrue(r.path("result").path("content").path(0).path("text").asText().contains(f.s.url + "/connect/svc"), r.toString());
            // no session: capabilities unknown, as before sessions (-32042 on 2025-11-25, the tool error earlier)
            assertEquals(-32042, TestServer.json(callProfile(f, alice, "2025-11-25", null)).path("error").path("code").asInt());
            assertTrue(TestServer.json(callProfile(f, alice, "2025-06-18", null)).path("result").path("isError").asBoolean());
            // without the MCP-Protocol-Version header the session's version counts (not 2025-03-26)
            assertEquals(-32042, TestServer.json(callProfile(f, alice, null, withUrl)).path("error").path("code").asInt());
            String old = initialize(f, alice, "2025-06-18", URL_CAPS);
            assertTrue(TestServer.json(callProfile(f, alice, null, old)).path("result").path("isError").asBoolean(), "2025-06-18 has no URL mode");

            // forged, or another user's: 404, the client initializes again
            char last = withUrl.charAt(withUrl.length() - 1);
            String forged = withUrl.substring(0, withUrl.length() - 1) + (last == 'A' ? 'B' : 'A');
            for (String bad : List.of(forged, "mcs1.e30.AAAA", "not-a-session")) {
                HttpResponse<String> x = toolsList(f, alice, "2025-11-25", bad);
                assertEquals(404, x.statusCode(), x.body());
                assertEquals(-32600, TestServer.json(x).path("error").path("code").asInt(), x.body());
                assertTrue(TestServer.json(x).path("error").path("message").asText().contains("initialize again"), x.body());
            }
            HttpResponse<String> stolen = toolsList(f, bob, "2025-11-25", withUrl);
            assertEquals(404, stolen.statusCode(), "a session id presented by another user is refused: " + stolen.body());
            HttpResponse<String> stolenGet = f.s.send(f.s.request("/mcp").header("Accept", "text/event-stream")
                    .header("Authorization", "Bearer " + bob.accessToken).header("Mcp-Session-Id", withUrl).GET());
            assertEquals(404, stolenGet.statusCode(), stolenGet.body());
            assertEquals(200, toolsList(f, alice, "2025-11-25", withUrl).statusCode());

            // DELETE: the session lives in its id; the server says it does not end sessions (405), and it stays valid
            HttpResponse<String> del = f.s.send(f.s.request("/mcp").header("Authorization", "Bearer " + alice.accessToken)
                    .header("Mcp-Session-Id", withUrl).DELETE());
            assertEquals(405, del.statusCode(), del.body());
            HttpResponse<String> delForged = f.s.send(f.s.request("/mcp").header("Authorization", "Bearer " + alice.accessToken)
                    .header("Mcp-Session-Id", forged).DELETE());
            assertEquals(404, delForged.statusCode(), delForged.body());

            // the server keeps nothing: after a restart on the same data directory the session is still valid
            f.env.put("PORT", String.valueOf(java.net.URI.create(f.s.url).getPort())); // the same issuer: the tokens stay valid
            f.restart(java.time.Clock.systemUTC());
            alice.refresh();
            bob.refresh();
            assertEquals(200, toolsList(f, alice, "2025-11-25", withUrl).statusCode());
            assertEquals(-32042, TestServer.json(callProfile(f, alice, "2025-11-25", withUrl)).path("error").path("code").asInt());
            assertTrue(TestServer.json(callProfile(f, alice, "2025-11-25", formOnly)).path("result").path("isError").asBoolean());
            assertEquals(404, toolsList(f, bob, "2025-11-25", withUrl).statusCode());
        }
    }

    @Test
    void theCompleteNotificationArrivesOnTheSessionStreamAfterTheConnectFlow() throws Exception {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            String session = initialize(f, alice, "2025-11-25", URL_CAPS);
            String other = initialize(f, alice, "2025-11-25", URL_CAPS);
            try (Stream stream = new Stream(f, alice, session); Stream otherStream = new Stream(f, alice, other)) {
                assertEquals(200, stream.response.statusCode());
                assertEquals("text/event-stream", stream.response.headers().firstValue("Content-Type").orElse("").split(";")[0]);
                JsonNode err = TestServer.json(callProfile(f, alice, "2025-11-25", session));
                assertEquals(-32042, err.path("error").path("code").asInt(), err.toString());
                String elicitationId = err.path("error").path("data").path("elicitations").path(0).path("elicitationId").asText();
                assertFalse(elicitationId.isEmpty());

                alice.connect(ALICE_AT_SVC);
                JsonNode n = stream.nextMessage(10);
                assertEquals("notifications/elicitation/complete", n.path("method").asText(), n.toString());
                assertEquals(elicitationId, n.path("params").path("elicitationId").asText());
                assertFalse(n.has("id"), "a notification");
                assertTrue(otherStream.lines.stream().noneMatch(l -> l.startsWith("data:")), "only the session that got the -32042 is told");

                // the retry works; a second connect announces nothing more (the elicitation is complete)
                JsonNode ok = TestServer.json(callProfile(f, alice, "2025-11-25", session));
                assertEquals("alice-at-svc", alice.toolJson(ok).path("profile").path("sub").asText(), ok.toString());
                assertEquals(2, f.s.server.mcp.openStreams(), "both streams are open");

                // the server stops: every stream ends
                f.s.close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!(stream.ended && otherStream.ended) && System.nanoTime() < deadline) Thread.sleep(50);
                assertTrue(stream.ended && otherStream.ended, "the streams were closed at the server's stop");
                f.s = null;
            }
        }
    }

    @Test
    void streamsAreBoundedPerUserAndNeedASessionAndTheRightAccept() throws Exception {
        try (ConnectFixture f = new ConnectFixture(dir, null).start()) {
            ConnectFixture.User alice = f.user("alice");
            ConnectFixture.User bob = f.user("bob");
            String session = initialize(f, alice, "2025-11-25", URL_CAPS);
            // no session: no stream (405, as a server without streams answers; the SDK clients take it silently)
            HttpResponse<String> none = f.s.send(f.s.request("/mcp").header("Accept", "text/event-stream")
                    .header("Authorization", "Bearer " + alice.accessToken).GET());
            assertEquals(405, none.statusCode(), none.body());
            HttpResponse<String> json = f.s.send(f.s.request("/mcp").header("Accept", "application/json")
                    .header("Authorization", "Bearer " + alice.accessToken).header("Mcp-Session-Id", session).GET());
            assertEquals(406, json.statusCode(), json.body());
            HttpResponse<String> anonymous = f.s.send(f.s.request("/mcp").header("Accept", "text/event-stream").header("Mcp-Session-Id", session).GET());
            assertEquals(401, anonymous.statusCode());

            List<Stream> open = new ArrayList<>();
            try {
                for (int i = 0; i < ServerStreams.MAX_PER_USER; i++) {
                    Stream s = new Stream(f, alice, session);
                    open.add(s);
                    assertEquals(200, s.response.statusCode(), "stream " + (i + 1));
                }
                Stream over = new Stream(f, alice, session);
                open.add(over);
                assertEquals(429, over.response.statusCode());
                assertTrue(new String(over.response.body().readAllBytes(), StandardCharsets.UTF_8).contains("streams open"));
                // another user is not refused for alice's streams
                Stream bobs = new Stream(f, bob, initialize(f, bob, "2025-11-25", URL_CAPS));
                open.add(bobs);
                assertEquals(200, bobs.response.statusCode());
                // a closed stream frees its place
                open.get(0).close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ServerStreams.HEARTBEAT.toSeconds() * 3);
                int status = 0;
                while (System.nanoTime() < deadline) {
                    Stream again = new Stream(f, alice, session);
                    open.add(again);
                    status = again.response.statusCode();
                    if (status == 200) break;
                    Thread.sleep(500);
                }
                assertEquals(200, status, "the place of a stream the client closed is given back (seen at the next heartbeat at the latest)");
            } finally {
                for (Stream s : open) s.close();
            }
        }
    }
}
