package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.modern.JsonRpc;
import io.modelcontextprotocol.modern.McpException;
import io.modelcontextprotocol.modern.McpSchema;
import io.modelcontextprotocol.modern.server.HmacRequestStateCodec;
import io.modelcontextprotocol.modern.server.McpHeaders;
import io.modelcontextprotocol.modern.server.McpRequestContext;
import io.modelcontextprotocol.modern.server.McpServer;
import io.modelcontextprotocol.modern.server.McpSyncResponse;
import io.modelcontextprotocol.modern.server.McpTransportResponse;
import io.modelcontextprotocol.modern.server.feature.McpSyncTool;
import io.modelcontextprotocol.modern.server.feature.McpSyncToolRepository;
import io.modelcontextprotocol.modern.server.feature.ToolsFeature;
import io.modelcontextprotocol.modern.server.feature.ToolsPage;
import io.modelcontextprotocol.modern.server.transport.McpHeaderDecoder;
import io.modelcontextprotocol.server.transport.HeaderAccessor;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The modern era (2026-07-28) of a set of tools: the MCP Java SDK 2.2.0 modern server
 * ({@code io.modelcontextprotocol.modern.server.McpServer}: server/discover, per-request {@code _meta}, resultType,
 * serverInfo in every result, tools/list with cache hints, tools/call with input-required results and sealed
 * requestState, 404/-32601 for every other method), driven directly with each message after {@link EraRouter} checked
 * its headers and {@code _meta} (no SDK servlet).
 *
 * <ul>
 *   <li>tools/list: the tools whose scopes the caller's token holds, in registration order, {@code cacheScope}
 *       "private" (the list depends on the authorization presented) and {@code ttlMs} {@value #TOOLS_TTL_MS} (the set
 *       is fixed while the process runs); one page, an unknown cursor is -32602.</li>
 *   <li>server/discover: {@link ProtocolVersions#SUPPORTED}, capabilities {@code tools} (no listChanged: no
 *       {@code subscriptions/listen}), "public", {@value #DISCOVER_TTL_MS} ms.</li>
 *   <li>requestState: sealed by the SDK's {@code HmacRequestStateCodec} with a key that survives restarts, bound to
 *       the user and client, the method and tool name, {@link #STATE_TTL}; inside it a {@link CallState}.</li>
 * </ul>
 */
final class ModernToolServer {
    private static final Logger log = LoggerFactory.getLogger(ModernToolServer.class);
    static final long TOOLS_TTL_MS = 300_000;
    static final long DISCOVER_TTL_MS = 3_600_000;
    static final Duration STATE_TTL = Duration.ofMinutes(10);

    private final ToolRunner runner;
    private final SafeJsonMapper mapper;
    private final McpServer server;
    private final Map<String, McpSyncTool> tools = new LinkedHashMap<>();

    ModernToolServer(ToolRunner runner, SafeJsonMapper mapper, String serverName, String serverVersion, byte[] stateKey, Clock clock) {
        this.runner = runner;
        this.mapper = mapper;
        for (McpTool t : runner.tools()) tools.put(t.name(), McpSyncTool.of(definition(t), (ctx, request) -> call(t, ctx, request)));
        McpSyncToolRepository repository = new McpSyncToolRepository() {
            @Override
            public ToolsPage list(McpRequestContext ctx, String cursor) {
                if (cursor != null) throw McpException.invalidParams("Invalid cursor: this list has one page");
                AuthContext caller = caller(ctx);
                List<McpSchema.Tool> visible = runner.tools().stream().filter(t -> runner.permits(t, caller))
                        .map(t -> tools.get(t.name()).definition()).toList();
                return new ToolsPage(visible, null, TOOLS_TTL_MS, McpSchema.CacheScope.PRIVATE);
            }

            @Override
            public McpSyncTool find(McpRequestContext ctx, String name) {
                return name == null ? null : tools.get(name);
            }
        };
        this.server = McpServer.builder()
                .serverInfo(McpSchema.Implementation.builder(serverName, serverVersion).build())
                .supportedVersions(ProtocolVersions.SUPPORTED) // what discover lists; EraRouter lets only modern versions reach us
                .jsonMapper(mapper)
                .feature(ToolsFeature.ofSync(repository, mapper, new ToolInputValidator(), TOOLS_TTL_MS, McpSchema.CacheScope.PRIVATE))
                .discoverCache(DISCOVER_TTL_MS, McpSchema.CacheScope.PUBLIC)
                .requestStateCodec(HmacRequestStateCodec.builder().key(stateKey.clone()).ttl(STATE_TTL).clock(clock).jsonMapper(mapper)
                        .principalExtractor(ModernToolServer::principal).build())
                .build();
    }

    McpReply handle(McpCall call) {
        McpTransportContext context = McpTransportContext.create(Map.of(
                McpEndpoint.AUTH_CONTEXT_KEY, call.caller(),
                McpHeaders.TRANSPORT_CONTEXT_KEY, McpHeaderDecoder.headers(accessor(call.headers()))));
        Object params = call.params().isMissingNode() ? null : Json.MAPPER.convertValue(call.params(), Object.class);
        try {
            if (call.isNotification()) {
                server.handleNotification(context, new JsonRpc.JSONRPCNotification("2.0", call.method(), params)).block();
                return McpReply.accepted();
            }
            McpTransportResponse response = server.handleBlocking(context,
                    new JsonRpc.JSONRPCRequest("2.0", call.method(), LegacyToolServer.id(call.id()), params)).block();
            if (response instanceof McpTransportResponse.Result r) return new McpReply(200, mapper.writeValueAsBytes(r.response()));
            if (response instanceof McpTransportResponse.Error e) return new McpReply(status(e.response().error()), mapper.writeValueAsBytes(e.response()));
            // No tool streams (no progress, no log notifications): a streaming answer would be a bug here.
            log.warn("/mcp (modern) {}: unexpected streaming response", call.method());
        } catch (IOException | RuntimeException e) {
            log.warn("/mcp (modern) {} failed: {}", call.method(), e.getClass().getName());
        }
        return McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
    }

    /** The HTTP status of a modern JSON-RPC error (2026-07-28 transport): 400 for malformed, 404 for unknown methods. */
    static int status(JsonRpc.JSONRPCResponse.JSONRPCError error) {
        int code = error == null || error.code() == null ? McpReply.INTERNAL_ERROR : error.code();
        return switch (code) {
            case McpReply.PARSE_ERROR, McpReply.INVALID_REQUEST, McpReply.INVALID_PARAMS, McpReply.HEADER_MISMATCH,
                 McpReply.MISSING_REQUIRED_CLIENT_CAPABILITY, McpReply.UNSUPPORTED_PROTOCOL_VERSION -> 400;
            case McpReply.METHOD_NOT_FOUND -> 404;
            default -> 200;
        };
    }

    private McpSyncResponse<McpSchema.CallToolOutcome> call(McpTool tool, McpRequestContext ctx, McpSchema.CallToolRequest request) {
        Map<String, Object> args = request.arguments() == null ? Map.of() : request.arguments();
        CallState previous = null;
        if (request.requestState() != null) { // opened and verified by the SDK's codec: same user, method, tool, not expired
            previous = CallState.decode(request.requestState());
            if (previous == null || !previous.matches(args)) throw McpException.invalidParams("Invalid requestState: it belongs to another call");
        }
        Map<String, Answer> answers = previous == null ? Map.of() : answers(request.inputResponses(), previous.asked());
        McpSchema.ClientCapabilities caps = ctx.clientCapabilities() == null ? McpSchema.ClientCapabilities.NONE : ctx.clientCapabilities();
        ToolCall toolCall = new ToolCall(caller(ctx), args, Era.MODERN, ctx.protocolVersion(), answers,
                previous == null ? null : previous.toolState(), caps.supportsElicitationForm(), caps.supportsElicitationUrl());
        ToolResult r = runner.run(tool, toolCall);
        if (r.isComplete()) return McpSyncResponse.result(complete(r.result()));

        boolean needsForm = false;
        boolean needsUrl = false;
        McpSchema.InputRequiredResult.Builder input = McpSchema.InputRequiredResult.builder();
        for (Map.Entry<String, Question> q : r.questions().entrySet()) {
            if (q.getValue() instanceof Question.Url u) {
                needsUrl |= !caps.supportsElicitationUrl();
                input.elicitUrl(q.getKey(), u.message(), u.url());
            } else {
                Question.Form f = (Question.Form) q.getValue();
                needsForm |= !caps.supportsElicitationForm();
                input.elicit(q.getKey(), McpSchema.ElicitFormRequest.builder(f.message(), f.requestedSchema()).build());
            }
        }
        if (needsForm || needsUrl) {
            throw McpException.missingClientCapability(McpSchema.ClientCapabilities.builder().elicitation(new McpSchema.ClientCapabilities.Elicitation(
                    needsForm ? new McpSchema.ClientCapabilities.Elicitation.Form() : null,
                    needsUrl ? new McpSchema.ClientCapabilities.Elicitation.Url() : null)).build());
        }
        input.requestState(CallState.of(args, r.questions().keySet(), r.state()).encode());
        return McpSyncResponse.result(input.build());
    }

    /** The answers to the questions asked ({@code asked}); anything else the client sent is ignored. */
    private static Map<String, Answer> answers(Map<String, Object> responses, List<String> asked) {
        if (responses == null) return Map.of();
        Map<String, Answer> out = new LinkedHashMap<>();
        for (String key : asked) {
            if (responses.get(key) instanceof Map<?, ?> m && m.get("action") instanceof String action) {
                Map<String, Object> content = new LinkedHashMap<>();
                if (m.get("content") instanceof Map<?, ?> c) c.forEach((k, v) -> content.put(String.valueOf(k), v));
                out.put(key, new Answer(action, content));
            }
        }
        return out;
    }

    /** Our tool result (the SDK's legacy schema type, the tool API) as the modern schema's result. */
    McpSchema.CallToolResult complete(CallToolResult legacy) {
        return mapper.convertValue(Json.MAPPER.valueToTree(legacy), McpSchema.CallToolResult.class);
    }

    private static McpSchema.Tool definition(McpTool tool) {
        McpSchema.Tool.Builder b = McpSchema.Tool.builder(tool.name(), tool.inputSchema()).description(tool.description());
        io.modelcontextprotocol.spec.McpSchema.ToolAnnotations a = tool.annotations();
        if (a != null) {
            b.annotations(new McpSchema.ToolAnnotations(a.title(), a.readOnlyHint(), a.destructiveHint(), a.idempotentHint(), a.openWorldHint()));
            if (a.title() != null) b.title(a.title());
        }
        return b.build();
    }

    private static AuthContext caller(McpRequestContext ctx) {
        return ctx.transportContext().get(McpEndpoint.AUTH_CONTEXT_KEY) instanceof AuthContext a ? a : null;
    }

    /** Whom a requestState belongs to: the user and the OAuth client (or API key) the token was issued to. */
    static String principal(McpTransportContext context) {
        return context.get(McpEndpoint.AUTH_CONTEXT_KEY) instanceof AuthContext a ? a.userId() + "\n" + a.clientId() : null;
    }

    private static HeaderAccessor accessor(RequestHeaders headers) {
        return new HeaderAccessor() {
            @Override
            public List<String> getHeader(String name) {
                return headers.values(name);
            }

            @Override
            public List<String> getHeaderNames() {
                return headers.names();
            }
        };
    }
}
