package io.mcpoauth.resource;

import io.mcpoauth.core.ConnectionAccess;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a {@link McpTool} answers to a {@link ToolCall}: a finished result, or questions for the user.
 *
 * <p>Questions reach the client as follows (the same tool code for both eras):
 * <ul>
 *   <li><b>Modern (2026-07-28)</b>: an {@code InputRequiredResult} ({@code resultType: "input_required"}) with one
 *       {@code elicitation/create} per question and a {@code requestState} the server seals (HMAC: this user, this
 *       tool, these arguments, ten minutes). The client asks the user and calls again with the answers, which the tool
 *       reads with {@link ToolCall#answer}. A client that did not declare the {@code elicitation} capability (the
 *       {@code url} mode for a URL question) gets MissingRequiredClientCapabilityError (-32021, HTTP 400).</li>
 *   <li><b>Legacy (2025-xx)</b>: served statelessly, the server cannot send the client a request of its own, so a form
 *       question cannot be asked: the call ends with a tool error ({@code isError: true}) that says so and repeats the
 *       question, and the tool did nothing. A URL question on 2025-11-25 becomes URLElicitationRequiredError (-32042)
 *       naming the URL (the client opens it and retries) when the client declared {@code elicitation.url} in its
 *       session's initialize or named no session; otherwise, and on 2025-06-18 and 2025-03-26, a tool error naming
 *       the URL.</li>
 * </ul>
 */
public final class ToolResult {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");

    private final CallToolResult result;
    private final Map<String, Question> questions;
    private final String state;
    /** Question key to the connection it sends the user to connect ({@link #notConnected}). */
    private final Map<String, String> connections;

    private ToolResult(CallToolResult result, Map<String, Question> questions, String state) {
        this(result, questions, state, Map.of());
    }

    private ToolResult(CallToolResult result, Map<String, Question> questions, String state, Map<String, String> connections) {
        this.result = result;
        this.questions = questions;
        this.state = state;
        this.connections = connections;
    }

    /** The connection the question {@code key} sends the user to connect, or null for any other question. */
    String connectionOf(String key) {
        return connections.get(key);
    }

    /** A finished call. */
    public static ToolResult of(CallToolResult result) {
        if (result == null) throw new IllegalArgumentException("result must not be null");
        return new ToolResult(result, Map.of(), null);
    }

    /** Asks one question, answered under {@code key} on the next call. */
    public static ToolResult ask(String key, Question question) {
        return ask(Map.of(key, question));
    }

    /** Asks several questions at once, each answered under its key (1-64 of A-Z a-z 0-9 _ . -). */
    public static ToolResult ask(Map<String, Question> questions) {
        if (questions == null || questions.isEmpty()) throw new IllegalArgumentException("ask at least one question");
        Map<String, Question> q = new LinkedHashMap<>();
        questions.forEach((k, v) -> {
            if (k == null || !KEY.matcher(k).matches()) throw new IllegalArgumentException("invalid question key: " + k);
            if (v == null) throw new IllegalArgumentException("question " + k + " is null");
            q.put(k, v);
        });
        return new ToolResult(null, Collections.unmodifiableMap(q), null);
    }

    /**
     * State the tool gets back as {@link ToolCall#state()} on the next call, e.g. what the user was asked to confirm.
     * The server protects it against change (and binds it to the user, the tool and the arguments) but does not hide
     * it: the client can read it, so never put a secret in it. At most 4096 characters.
     */
    public ToolResult withState(String state) {
        if (result != null) throw new IllegalStateException("state goes with questions, not with a finished result");
        if (state != null && state.length() > 4096) throw new IllegalArgumentException("state is longer than 4096 characters");
        return new ToolResult(null, questions, state, connections);
    }

    public boolean isComplete() {
        return result != null;
    }

    /** The finished result, or null when asking. */
    public CallToolResult result() {
        return result;
    }

    /** The questions (empty when finished), in the order given. */
    public Map<String, Question> questions() {
        return questions;
    }

    public String state() {
        return state;
    }

    /**
     * A tool (or an upstream) needs a connection the caller does not have, or must renew: the user is sent to the connect
     * page ({@link Question.Url}, never pre-authenticated: the page needs the user's own browser session). A 2026-07-28
     * client that declared URL elicitation gets an InputRequiredResult and retries after connecting; a 2025-11-25 client
     * that declared {@code elicitation.url} in its session's initialize (or named no session: capabilities unknown)
     * gets URLElicitationRequiredError (-32042), and {@code notifications/elicitation/complete} on its session's open
     * stream once the user has connected; any other client a tool error whose text gives the link. The endpoint does this for
     * every tool that throws {@link ConnectionAccess.NotConnected}; a gateway upstream that needs a connection
     * answers the same way.
     */
    public static ToolResult notConnected(ConnectionAccess.NotConnected e, ToolCall call) {
        if (e.connectUrl() == null) return ToolResult.of(McpTool.error(e.getMessage()));
        Question.Url q = Question.url(e.getMessage(), e.connectUrl());
        String key = "connect_" + e.connection().replaceAll("[^A-Za-z0-9_.\\-]", "_");
        if (call.era() == Era.MODERN && call.canAsk(q) && call.answer(key) == null) return ToolResult.ask(key, q);
        if (call.era() == Era.LEGACY && call.urlElicitationRequired()) {
            return new ToolResult(null, Map.of(key, q), null, Map.of(key, e.connection()));
        }
        return ToolResult.of(McpTool.error(e.getMessage()));
    }
}
