package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import java.util.Map;

/**
 * One call of a {@link McpTool}: who calls, with which arguments, over which protocol generation, and, when the tool
 * asked questions on the previous round of the same call, the user's answers and the tool's own state.
 *
 * <p>Answers and state are only ever present on a retry the server verified: the client echoed the sealed
 * {@code requestState} of the tool's own {@link ToolResult#ask} for the same user, the same tool and the same
 * arguments, within its lifetime. An answer to a question that was not asked is never seen.
 */
public final class ToolCall {
    private final AuthContext caller;
    private final Map<String, Object> arguments;
    private final Era era;
    private final String protocolVersion;
    private final Map<String, Answer> answers;
    private final String state;
    private final boolean canAskForms;
    private final boolean canAskUrls;
    private final boolean urlElicitationRequired;

    public ToolCall(AuthContext caller, Map<String, Object> arguments, Era era, String protocolVersion, Map<String, Answer> answers,
                    String state, boolean canAskForms, boolean canAskUrls) {
        this(caller, arguments, era, protocolVersion, answers, state, canAskForms, canAskUrls,
                era == Era.LEGACY && ProtocolVersions.V2025_11_25.equals(protocolVersion));
    }

    /** @param urlElicitationRequired legacy: a URL question goes back as URLElicitationRequiredError ({@link McpCall#urlElicitationRequired}) */
    public ToolCall(AuthContext caller, Map<String, Object> arguments, Era era, String protocolVersion, Map<String, Answer> answers,
                    String state, boolean canAskForms, boolean canAskUrls, boolean urlElicitationRequired) {
        this.urlElicitationRequired = urlElicitationRequired;
        this.caller = caller;
        this.arguments = arguments == null ? Map.of() : arguments;
        this.era = era;
        this.protocolVersion = protocolVersion;
        this.answers = answers == null ? Map.of() : Map.copyOf(answers);
        this.state = state;
        this.canAskForms = canAskForms;
        this.canAskUrls = canAskUrls;
    }

    /** A first call with no way to ask anything (tests, in-process callers). */
    public static ToolCall of(AuthContext caller, Map<String, Object> arguments) {
        return new ToolCall(caller, arguments, Era.MODERN, ProtocolVersions.V2026_07_28, Map.of(), null, false, false);
    }

    public AuthContext caller() {
        return caller;
    }

    /** Never null (empty when the client sent none). */
    public Map<String, Object> arguments() {
        return arguments;
    }

    public Era era() {
        return era;
    }

    public String protocolVersion() {
        return protocolVersion;
    }

    /** The answer to the question asked under {@code key} on the previous round, or null (not asked, or not answered). */
    public Answer answer(String key) {
        return answers.get(key);
    }

    /** The state of the tool's previous {@link ToolResult#withState}, or null on a first call. */
    public String state() {
        return state;
    }

    /** True on the second and later rounds of a call (the tool's questions came back). */
    public boolean isRetry() {
        return state != null || !answers.isEmpty();
    }

    /**
     * Whether {@code question} would reach the user on this call (modern client with the matching elicitation
     * capability). A tool may ask anyway: the client then gets the answer described in {@link ToolResult}.
     */
    public boolean canAsk(Question question) {
        return question instanceof Question.Url ? canAskUrls : canAskForms;
    }

    /**
     * Legacy era: whether a URL question goes back as URLElicitationRequiredError (-32042), i.e. a 2025-11-25 client
     * that declared {@code elicitation.url} in its session (or whose capabilities are unknown); otherwise the client
     * gets a tool error that gives the link.
     */
    public boolean urlElicitationRequired() {
        return urlElicitationRequired;
    }
}
