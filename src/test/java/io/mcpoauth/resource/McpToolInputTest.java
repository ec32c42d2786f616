package io.mcpoauth.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.TestClock;
import io.mcpoauth.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool that asks for input, over real HTTP in both eras: the built-in {@code notes_clear} (a confirmation, form
 * mode) and a test tool sending the user to a page (URL mode). Modern: input_required, the retry with answers and the
 * sealed requestState, which is refused when tampered with, expired, presented by another user, for other arguments,
 * or sealed with another key; kept across a restart with the same key. Legacy: what a client gets instead.
 */
class McpToolInputTest {
    static final String ELICIT = "{\"elicitation\":{}}";
    static final String ELICIT_URL = "{\"elicitation\":{\"form\":{},\"url\":{}}}";

    @TempDir
    Path dir;
    McpTestServer s;

    @BeforeEach
    void start() {
        s = server(McpTestServer.KEY, new TestClock(Instant.parse("2026-08-01T10:00:00Z")));
    }

    @AfterEach
    void stop() {
        if (s != null) s.close();
    }

    private McpTestServer server(byte[] key, TestClock clock) {
        return new McpTestServer(dir.resolve("data"), Map.of(), settings -> TestTools.all(), config -> {}, key, clock);
    }

    private void addNotes(String token, int n) {
        for (int i = 0; i < n; i++) assertEquals(200, s.callTool(token, "notes_add", "{\"text\":\"note " + i + "\"}").status());
    }

    private int noteCount(String userId) {
        return s.notes.count(userId);
    }

    /** A modern retry of {@code tool}: the given requestState (as is) and answers. */
    private McpTestServer.Res retry(String token, String tool, String args, String requestState, String inputResponses, String caps) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("name", tool);
        p.set("arguments", read(args == null ? "{}" : args));
        if (requestState != null) p.put("requestState", requestState);
        if (inputResponses != null) p.set("inputResponses", read(inputResponses));
        return s.modern(token, 2, "tools/call", p.toString(), caps);
    }

    private static JsonNode read(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String accept(boolean confirm) {
        return "{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":" + confirm + "}}}";
    }

    private static JsonNode inputRequired(McpTestServer.Res r) {
        assertEquals(200, r.status(), r.toString());
        JsonNode result = r.json().path("result");
        assertEquals("input_required", result.path("resultType").asText(), r.body());
        assertTrue(result.path("requestState").isTextual(), r.body());
        assertFalse(result.has("ttlMs") || result.has("cacheScope") || result.has("content"), "no cache hints, no content: " + r.body());
        assertEquals("mcp-oauth-server", result.path("_meta").path("io.modelcontextprotocol/serverInfo").path("name").asText());
        return result;
    }

    private static JsonNode complete(McpTestServer.Res r) {
        assertEquals(200, r.status(), r.toString());
        JsonNode result = r.json().path("result");
        assertEquals("complete", result.path("resultType").asText(), r.body());
        return result;
    }

    private static void assertInvalidState(McpTestServer.Res r) {
        assertEquals(400, r.status(), r.toString());
        assertEquals(-32602, r.json().path("error").path("code").asInt(), r.body());
        assertEquals(2, r.json().path("id").asInt(), r.body());
        NoStackTraces.assertClean(r);
    }

    @Test
    void modernConfirmationRoundTripDeletesOnlyAfterConfirmation() {
        addNotes("alice-token", 2);
        JsonNode ask = inputRequired(s.modernCall("alice-token", "notes_clear", null, ELICIT));
        JsonNode q = ask.path("inputRequests").path("confirm");
        assertEquals("elicitation/create", q.path("method").asText(), ask.toString());
        assertEquals("form", q.path("params").path("mode").asText(), ask.toString());
        assertTrue(q.path("params").path("message").asText().contains("Delete all 2 of your notes"), ask.toString());
        assertEquals("boolean", q.path("params").path("requestedSchema").path("properties").path("confirm").path("type").asText(), ask.toString());
        assertEquals(2, noteCount("local:alice"), "asking deletes nothing");
        String state = ask.path("requestState").asText();

        JsonNode declined = complete(retry("alice-token", "notes_clear", null, state, "{\"confirm\":{\"action\":\"decline\"}}", ELICIT));
        assertTrue(declined.path("content").path(0).path("text").asText().contains("Nothing was deleted"), declined.toString());
        JsonNode unticked = complete(retry("alice-token", "notes_clear", null, state, accept(false), ELICIT));
        assertTrue(unticked.path("content").path(0).path("text").asText().contains("Nothing was deleted"), unticked.toString());
        assertEquals(2, noteCount("local:alice"));

        // The retry is a new request: not cacheable; the answer to the question actually asked counts.
        JsonNode done = complete(retry("alice-token", "notes_clear", null, state, accept(true), ELICIT));
        assertEquals(2, Json.MAPPER.convertValue(read(done.path("content").path(0).path("text").asText()), Map.class).get("deleted"), done.toString());
        assertFalse(done.path("isError").asBoolean());
        assertEquals(0, noteCount("local:alice"));
        assertEquals("You have no notes: nothing to delete.", read(complete(s.modernCall("alice-token", "notes_clear", null, ELICIT))
                .path("content").path(0).path("text").asText()).path("message").asText());
    }

    @Test
    void aRetryWithoutTheAnswerOrAfterTheNotesChangedAsksAgain() {
        addNotes("alice-token", 1);
        String state = inputRequired(s.modernCall("alice-token", "notes_clear", null, ELICIT)).path("requestState").asText();
        inputRequired(retry("alice-token", "notes_clear", null, state, null, ELICIT));
        inputRequired(retry("alice-token", "notes_clear", null, state, "{\"other\":{\"action\":\"accept\"}}", ELICIT));
        addNotes("alice-token", 1); // the user was asked about 1 note; now there are 2
        JsonNode again = inputRequired(retry("alice-token", "notes_clear", null, state, accept(true), ELICIT));
        assertTrue(again.path("inputRequests").path("confirm").path("params").path("message").asText().contains("all 2"), again.toString());
        assertEquals(2, noteCount("local:alice"));
        // Answers without a requestState of ours are never taken as answers.
        inputRequired(retry("alice-token", "notes_clear", null, null, accept(true), ELICIT));
        assertEquals(2, noteCount("local:alice"));
    }

    @Test
    void aTamperedExpiredOrForeignRequestStateIsRefused() {
        addNotes("alice-token", 1);
        addNotes("bob-token", 1);
        String state = inputRequired(s.modernCall("alice-token", "notes_clear", null, ELICIT)).path("requestState").asText();
        int dot = state.lastIndexOf('.');
        String payload = new String(Base64.getUrlDecoder().decode(state.substring(0, dot)), StandardCharsets.UTF_8);
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.replace("1:", "9:").getBytes(StandardCharsets.UTF_8))
                + state.substring(dot);
        assertNotEquals(state, forged);
        for (String bad : new String[]{forged, state.substring(0, state.length() - 2) + "AA", state + "x", "garbage", state.substring(0, dot)}) {
            assertInvalidState(retry("alice-token", "notes_clear", null, bad, accept(true), ELICIT));
        }
        // Another user cannot use it.
        assertInvalidState(retry("bob-token", "notes_clear", null, state, accept(true), ELICIT));
        // Another tool cannot.
        assertInvalidState(retry("alice-token", "notes_list", null, state, accept(true), ELICIT));
        // It expires after ten minutes.
        s.clock.advance(Duration.ofMinutes(11));
        assertInvalidState(retry("alice-token", "notes_clear", null, state, accept(true), ELICIT));
        assertEquals(1, noteCount("local:alice"));
        assertEquals(1, noteCount("google:1234"));
    }

    @Test
    void aRequestStateIsBoundToTheArguments() {
        String caps = ELICIT_URL;
        JsonNode ask = inputRequired(s.modernCall("alice-token", "visit_page", "{\"account\":\"a1\"}", caps));
        JsonNode q = ask.path("inputRequests").path("visit");
        assertEquals("url", q.path("params").path("mode").asText(), ask.toString());
        assertEquals("https://mcp.example.com/connect", q.path("params").path("url").asText());
        assertFalse(q.path("params").has("elicitationId"), "no elicitationId in 2026-07-28: " + ask);
        String state = ask.path("requestState").asText();
        assertInvalidState(retry("alice-token", "visit_page", "{\"account\":\"a2\"}", state, "{\"visit\":{\"action\":\"accept\"}}", caps));
        JsonNode done = complete(retry("alice-token", "visit_page", "{\"account\":\"a1\"}", state, "{\"visit\":{\"action\":\"accept\"}}", caps));
        assertEquals("visited for a1 state=s1", done.path("content").path(0).path("text").asText());
    }

    @Test
    void aRequestStateSurvivesARestartWithTheSameKeyOnly() {
        addNotes("alice-token", 1);
        String state = inputRequired(s.modernCall("alice-token", "notes_clear", null, ELICIT)).path("requestState").asText();
        TestClock clock = s.clock;
        s.close();
        s = server(McpTestServer.KEY, clock);
        complete(retry("alice-token", "notes_clear", null, state, accept(true), ELICIT));
        assertEquals(0, noteCount("local:alice"));

        addNotes("alice-token", 1);
        String again = inputRequired(s.modernCall("alice-token", "notes_clear", null, ELICIT)).path("requestState").asText();
        s.close();
        s = server("another-key-another-key-another!!".getBytes(StandardCharsets.US_ASCII), clock);
        assertInvalidState(retry("alice-token", "notes_clear", null, again, accept(true), ELICIT));
        assertEquals(1, noteCount("local:alice"));
    }

    @Test
    void aModernClientWithoutTheCapabilityGetsMissingRequiredClientCapability() {
        addNotes("alice-token", 1);
        McpTestServer.Res form = s.modernCall("alice-token", "notes_clear", null, "{}");
        assertEquals(400, form.status(), form.toString());
        assertEquals(-32021, form.json().path("error").path("code").asInt(), form.body());
        assertEquals(9, form.json().path("id").asInt());
        assertTrue(form.json().path("error").path("data").path("requiredCapabilities").path("elicitation").isObject(), form.body());
        // {"elicitation":{}} means form only: a URL question needs elicitation.url.
        McpTestServer.Res url = s.modernCall("alice-token", "visit_page", "{\"account\":\"a\"}", ELICIT);
        assertEquals(400, url.status(), url.toString());
        assertEquals(-32021, url.json().path("error").path("code").asInt(), url.body());
        assertTrue(url.json().path("error").path("data").path("requiredCapabilities").path("elicitation").has("url"), url.body());
        assertEquals(1, noteCount("local:alice"));
        NoStackTraces.assertClean(url);
    }

    @Test
    void legacyClientsGetAToolErrorOrUrlElicitationRequired() {
        addNotes("alice-token", 1);
        McpTestServer.Res form = s.callTool("alice-token", "notes_clear", null);
        assertEquals(200, form.status(), form.toString());
        JsonNode result = form.json().path("result");
        assertTrue(result.path("isError").asBoolean(), form.body());
        String text = result.path("content").path(0).path("text").asText();
        assertTrue(text.contains("Delete your 1 note?") && text.contains("Nothing was done") && text.contains("2026-07-28"), text);
        assertEquals(1, noteCount("local:alice"));

        // URL question, 2025-11-25: URLElicitationRequiredError with an elicitationId.
        McpTestServer.Res url = s.rpc("alice-token", "tools/call", "{\"name\":\"visit_page\",\"arguments\":{\"account\":\"a\"}}", "2025-11-25");
        assertEquals(200, url.status(), url.toString());
        JsonNode error = url.json().path("error");
        assertEquals(-32042, error.path("code").asInt(), url.body());
        assertEquals(7, url.json().path("id").asInt());
        JsonNode e = error.path("data").path("elicitations").path(0);
        assertEquals("url", e.path("mode").asText(), url.body());
        assertEquals("https://mcp.example.com/connect", e.path("url").asText());
        assertTrue(e.path("elicitationId").asText().length() >= 32, url.body());
        // Older legacy versions have no URL elicitation: a tool error naming the page.
        McpTestServer.Res old = s.rpc("alice-token", "tools/call", "{\"name\":\"visit_page\",\"arguments\":{\"account\":\"a\"}}", "2025-06-18");
        assertTrue(old.json().path("result").path("isError").asBoolean(), old.body());
        assertTrue(old.json().path("result").path("content").path(0).path("text").asText().contains("open https://mcp.example.com/connect"), old.body());
    }
}
