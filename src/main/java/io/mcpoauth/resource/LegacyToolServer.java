package io.mcpoauth.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Json;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The legacy era (2025-03-26, 2025-06-18, 2025-11-25) of a set of tools: the MCP Java SDK's stateless server
 * ({@code McpStatelessSyncServer}: initialize negotiation, ping, tools/list, tools/call with schema validation), driven
 * directly with each message (no SDK servlet: the HTTP side is ours, the same for both eras). Tools run on the request
 * thread. What a tool's question becomes here is described in {@link ToolResult}.
 */
final class LegacyToolServer {
    private static final Logger log = LoggerFactory.getLogger(LegacyToolServer.class);
    static final String CALL_KEY = "io.mcpoauth.call";

    private final ToolRunner runner;
    private final SafeJsonMapper mapper;
    private final McpStatelessServerHandler handler;

    LegacyToolServer(ToolRunner runner, SafeJsonMapper mapper, String serverName, String serverVersion) {
        this.runner = runner;
        this.mapper = mapper;
        Capture capture = new Capture();
        McpServer.sync(capture)
                .serverInfo(serverName, serverVersion)
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .jsonMapper(mapper)
                .immediateExecution(true)
                .jsonSchemaValidator(new ToolInputValidator())
                .tools(runner.tools().stream().map(this::specification).toList())
                .build();
        if (capture.handler == null) throw new IllegalStateException("the SDK did not hand over its request handler");
        this.handler = capture.handler;
    }

    McpReply handle(McpCall call) {
        McpTransportContext context = McpTransportContext.create(Map.of(McpEndpoint.AUTH_CONTEXT_KEY, call.caller(), CALL_KEY, call));
        Object params = call.params().isMissingNode() ? null : Json.MAPPER.convertValue(call.params(), Object.class);
        try {
            if (call.isNotification()) {
                handler.handleNotification(context, new McpSchema.JSONRPCNotification("2.0", call.method(), params))
                        .contextWrite(c -> c.put(McpTransportContext.KEY, context)).block();
                return McpReply.accepted();
            }
            McpSchema.JSONRPCResponse response = handler.handleRequest(context, new McpSchema.JSONRPCRequest("2.0", call.method(), id(call.id()), params))
                    .contextWrite(c -> c.put(McpTransportContext.KEY, context)).block();
            return new McpReply(200, mapper.writeValueAsBytes(response));
        } catch (IOException | RuntimeException e) {
            log.warn("/mcp (legacy) {} failed: {}", call.method(), e.getClass().getName());
            return McpReply.error(500, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
        }
    }

    private McpStatelessServerFeatures.SyncToolSpecification specification(McpTool tool) {
        McpSchema.Tool.Builder b = McpSchema.Tool.builder()
                .name(tool.name())
                .description(tool.description())
                .inputSchema(tool.inputSchema());
        if (tool.annotations() != null) b.annotations(tool.annotations());
        return new McpStatelessServerFeatures.SyncToolSpecification(b.build(), (context, request) -> {
            Object caller = context.get(McpEndpoint.AUTH_CONTEXT_KEY);
            Object call = context.get(CALL_KEY);
            McpCall mcpCall = call instanceof McpCall c ? c : null;
            String version = mcpCall != null ? mcpCall.protocolVersion() : ProtocolVersions.LEGACY_WITHOUT_HEADER;
            Map<String, Object> args = request.arguments() == null ? Map.of() : request.arguments();
            boolean urlError = mcpCall != null ? mcpCall.urlElicitationRequired() : ProtocolVersions.V2025_11_25.equals(version);
            ToolCall toolCall = new ToolCall(caller instanceof AuthContext a ? a : null, args, Era.LEGACY, version, Map.of(), null, false, false, urlError);
            ToolResult r = runner.run(tool, toolCall);
            return r.isComplete() ? r.result() : unanswerable(tool, r, version, mcpCall);
        });
    }

    /**
     * A stateless legacy server cannot put a question to the client (that needs a server-to-client request on an open
     * stream, and the answer would arrive as a POST nobody waits for). URL questions on 2025-11-25 become
     * URLElicitationRequiredError (-32042) for a client that declared {@code elicitation.url} (or whose capabilities
     * are unknown: {@link McpCall#urlElicitationRequired}); anything else a tool error that names the question. A
     * question that sends the user to connect is remembered for {@code notifications/elicitation/complete}.
     */
    static McpSchema.CallToolResult unanswerable(McpTool tool, ToolResult r, String version, McpCall call) {
        boolean allUrls = r.questions().values().stream().allMatch(q -> q instanceof Question.Url);
        boolean urlError = call != null ? call.urlElicitationRequired() : ProtocolVersions.V2025_11_25.equals(version);
        if (allUrls && urlError) {
            List<Map<String, Object>> elicitations = new ArrayList<>();
            for (Map.Entry<String, Question> entry : r.questions().entrySet()) {
                Question.Url u = (Question.Url) entry.getValue();
                String connection = r.connectionOf(entry.getKey());
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("mode", "url");
                e.put("elicitationId", call != null && connection != null ? call.connectElicitation(connection) : UUID.randomUUID().toString());
                e.put("url", u.url());
                e.put("message", u.message());
                elicitations.add(e);
            }
            throw McpError.builder(McpReply.URL_ELICITATION_REQUIRED).message("This request requires more information.")
                    .data(Map.of("elicitations", elicitations)).build();
        }
        StringBuilder text = new StringBuilder(tool.name()).append(" needs an answer from you first, which this connection cannot ask for: ");
        String sep = "";
        for (Question q : r.questions().values()) {
            text.append(sep).append('"').append(q.message()).append('"');
            if (q instanceof Question.Url u) text.append(" (open ").append(u.url()).append(", then call ").append(tool.name()).append(" again)");
            sep = "; ";
        }
        text.append(". Nothing was done. This server asks such questions over MCP 2026-07-28 (with a client that declares the elicitation capability);")
                .append(" this connection speaks MCP ").append(version).append(", where a stateless server cannot send a question to the client.");
        return McpTool.error(text.toString());
    }

    /** A JSON-RPC id as the SDK's request record wants it: a String or a Number. */
    static Object id(JsonNode id) {
        if (id == null) return null;
        return id.isTextual() ? id.asText() : id.numberValue();
    }

    /** Receives the SDK server's handler: the SDK wires a transport to it; we call it directly. */
    private static final class Capture implements McpStatelessServerTransport {
        private McpStatelessServerHandler handler;

        @Override
        public void setMcpHandler(McpStatelessServerHandler handler) {
            this.handler = handler;
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.empty();
        }

        @Override
        public List<String> protocolVersions() {
            return ProtocolVersions.LEGACY;
        }
    }
}
