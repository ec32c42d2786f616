package io.mcpoauth.resource.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.Era;
import io.mcpoauth.resource.McpBackend;
import io.mcpoauth.resource.McpCall;
import io.mcpoauth.resource.McpEndpoint;
import io.mcpoauth.resource.McpReply;
import io.mcpoauth.resource.McpTool;
import io.mcpoauth.resource.ToolBackend;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend of one gateway endpoint: {@code /mcp/NAME} (one upstream, its own names) or {@code /mcp} (the built-in
 * tools and every upstream, prefixed; see {@link Gateway}). The protocol itself (initialize, server/discover, ping,
 * notifications, the era's result shapes) is answered by a {@link ToolBackend}; tools, resources and prompts of the
 * upstreams are added here, for both eras. Never throws; an upstream that is down, slow or confused becomes a tool
 * error (tools/call) or a JSON-RPC error naming it (lists of a single server); in the aggregate such a server is
 * left out of the lists.
 */
final class GatewayBackend implements McpBackend {
    private static final Logger log = LoggerFactory.getLogger(GatewayBackend.class);
    private static final Set<String> CACHEABLE = Set.of("resources/read", "prompts/get", "resources/list", "resources/templates/list", "prompts/list");
    private static final Set<String> PASS_THROUGH = Set.of("completion/complete", "resources/subscribe", "resources/unsubscribe", "logging/setLevel");

    private final Gateway gateway;
    private final ToolBackend base;
    private final Map<String, ServerRuntime> members;
    private final boolean prefixed;
    private final Set<String> baseTools;

    GatewayBackend(Gateway gateway, ToolBackend base, Map<String, ServerRuntime> members, boolean prefixed) {
        this.gateway = gateway;
        this.base = base;
        this.members = members;
        this.prefixed = prefixed;
        this.baseTools = Set.copyOf(base.tools().stream().map(McpTool::name).toList());
    }

    /** Upstream tool calls in flight by (user, client, request id), for the client's notifications/cancelled; bounded. */
    private final java.util.concurrent.ConcurrentHashMap<String, Cancellation> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
    static final int MAX_IN_FLIGHT = 10_000;

    private static String flightKey(AuthContext caller, JsonNode requestId) {
        return caller.userId() + "\n" + caller.clientId() + "\n" + requestId;
    }

    @Override
    public McpReply handle(McpCall call) {
        if (!members.isEmpty() && call.isNotification() && "notifications/cancelled".equals(call.method())) {
            JsonNode requestId = call.params().get("requestId");
            Cancellation c = requestId == null ? null : inFlight.get(flightKey(call.caller(), requestId));
            if (c != null) c.cancel();
            return McpReply.accepted();
        }
        if (members.isEmpty() || call.isNotification()) return base.handle(call);
        try {
            return switch (call.method()) {
                case "tools/list" -> toolsList(call);
                case "tools/call" -> toolsCall(call);
                case "resources/list" -> list(call, "resources/list", "resources");
                case "resources/templates/list" -> list(call, "resources/templates/list", "resourceTemplates");
                case "prompts/list" -> list(call, "prompts/list", "prompts");
                case "resources/read" -> read(call);
                case "prompts/get" -> prompt(call);
                case "initialize", "server/discover" -> withCapabilities(call);
                default -> !prefixed && call.era() == Era.LEGACY && PASS_THROUGH.contains(call.method()) ? forward(call) : base.handle(call);
            };
        } catch (RuntimeException e) {
            log.warn("gateway {} failed: {}", call.method(), e.getClass().getName());
            return McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
        }
    }

    private boolean allowed(ServerRuntime r, AuthContext caller) {
        return r.entry.admits(caller.userId(), caller.username())
                && (r.entry.scope() == null || caller.scopes().containsAll(Gateway.scopes(r.entry.scope())));
    }

    // ---- tools ----

    private McpReply toolsList(McpCall call) {
        McpReply r = base.handle(call);
        ObjectNode root = parse(r);
        if (root == null || !root.path("result").isObject()) return r;
        ObjectNode result = (ObjectNode) root.get("result");
        ArrayNode tools = result.path("tools").isArray() ? (ArrayNode) result.get("tools") : result.putArray("tools");
        if (result.has("ttlMs")) result.put("ttlMs", ServerRuntime.TOOLS_CACHE_NANOS / 1_000_000);
        for (ServerRuntime m : members.values()) {
            if (!allowed(m, call.caller())) continue;
            List<JsonNode> upstream;
            try {
                upstream = m.tools(call.caller());
            } catch (UpstreamException | ConnectionAccess.NotConnected | IllegalStateException e) {
                if (!prefixed) return McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "The server " + m.entry.name() + " is unavailable: " + e.getMessage(), null);
                log.info("/mcp: {} left out of tools/list: {}", m.entry.name(), e.getMessage());
                continue;
            }
            for (JsonNode t : upstream) {
                String name = t.path("name").asText("");
                if (!t.isObject() || name.isEmpty() || !m.entry.offers(name)) continue;
                String shown = prefixed ? m.entry.name() + Gateway.SEPARATOR + name : name;
                if (!Gateway.TOOL_NAME.matcher(shown).matches()) continue;
                ObjectNode copy = ((ObjectNode) t).deepCopy();
                copy.put("name", shown);
                tools.add(copy);
            }
        }
        return McpReply.json(r.status(), root);
    }

    private record Target(ServerRuntime server, String name) {}

    /** The server and its own name for a (possibly prefixed) name; null when it names no server of this endpoint. */
    private Target target(String name) {
        if (!prefixed) return new Target(members.values().iterator().next(), name);
        int sep = name.indexOf(Gateway.SEPARATOR);
        if (sep <= 0) return null;
        ServerRuntime r = members.get(name.substring(0, sep));
        return r == null ? null : new Target(r, name.substring(sep + 1));
    }

    private McpReply toolsCall(McpCall call) {
        String name = call.params().path("name").asText("");
        if (prefixed && baseTools.contains(name)) return base.handle(call);
        Target t = target(name);
        if (t == null) return base.handle(call); // the base answers an unknown tool in the era's way
        AuthContext caller = call.caller();
        ServerRuntime r = t.server;
        long t0 = System.nanoTime();
        if (!allowed(r, caller)) {
            audit(caller, r, t.name, "refused", t0);
            return toolResult(call, McpTool.error("You may not use the server " + r.entry.name() + "."));
        }
        if (!r.entry.offers(t.name)) {
            audit(caller, r, t.name, "refused", t0);
            return rpcError(call, McpReply.INVALID_PARAMS, "Unknown tool: " + name, null);
        }
        if (r.entry.connection() != null) {
            try {
                caller.connection(r.entry.connection().name()); // refreshed when needed; the upstream call then reads it again
            } catch (ConnectionAccess.NotConnected e) {
                audit(caller, r, t.name, "refused", t0);
                return notConnected(call, name, e);
            } catch (ConnectionAccess.Unavailable e) {
                audit(caller, r, t.name, "unavailable", t0);
                return toolResult(call, McpTool.error(e.getMessage()));
            }
        }
        ObjectNode params = Json.MAPPER.createObjectNode();
        params.put("name", t.name);
        JsonNode args = call.params().path("arguments");
        params.set("arguments", args.isObject() ? args : Json.MAPPER.createObjectNode());
        JsonNode token = call.params().path("_meta").get("progressToken");
        if (call.era() == Era.LEGACY && token != null && (token.isTextual() || token.isIntegralNumber())) {
            // the client asked for progress: the answer is an SSE stream, each upstream progress notification relayed as it comes
            params.putObject("_meta").set("progressToken", token);
            return McpReply.stream(event -> event.accept(upstreamCall(call, r, t, params, t0,
                    n -> event.accept(n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))).body()));
        }
        return upstreamCall(call, r, t, params, t0, null);
    }

    /** The upstream's tools/call, answered as JSON; counted and audited. */
    private McpReply upstreamCall(McpCall call, ServerRuntime r, Target t, ObjectNode params, long t0, java.util.function.Consumer<JsonNode> progress) {
        AuthContext caller = call.caller();
        String outcome = "unavailable";
        Cancellation cancellation = null;
        String key = null;
        if (call.era() == Era.LEGACY && inFlight.size() < MAX_IN_FLIGHT) {
            cancellation = new Cancellation();
            key = flightKey(caller, call.id());
            if (inFlight.putIfAbsent(key, cancellation) != null) {
                cancellation = null; // the same id twice in flight: only the first can be cancelled
                key = null;
            }
        }
        try {
            JsonNode result = r.call(caller, "tools/call", params, r.entry.timeout(), progress, cancellation);
            outcome = result.path("isError").asBoolean(false) ? "tool_error" : "ok";
            return reply(call, result.deepCopy());
        } catch (UpstreamException e) {
            if (e.rpcError() != null) {
                outcome = "error";
                return rpcError(call, e.code(), e.getMessage(), e.rpcError().get("data"));
            }
            if (cancellation != null && cancellation.cancelled()) {
                outcome = "cancelled";
                return toolResult(call, McpTool.error("The call was cancelled."));
            }
            return toolResult(call, McpTool.error("The server " + r.entry.name() + " is unavailable: " + e.getMessage() + "."));
        } catch (ConnectionAccess.NotConnected e) {
            outcome = "refused";
            return notConnected(call, t.name, e);
        } catch (ConnectionAccess.Unavailable e) {
            return toolResult(call, McpTool.error(e.getMessage()));
        } catch (IllegalStateException e) {
            return toolResult(call, McpTool.error("The server " + r.entry.name() + " cannot be called: " + e.getMessage() + "."));
        } catch (RuntimeException e) {
            log.warn("gateway tools/call to {} failed: {}", r.entry.name(), e.getClass().getName());
            return McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
        } finally {
            if (key != null) inFlight.remove(key, cancellation);
            long elapsed = System.nanoTime() - t0;
            r.stats.record(elapsed, !outcome.equals("ok") && !outcome.equals("tool_error"));
            audit(caller, r, t.name, outcome, t0);
        }
    }

    /**
     * The caller has not connected the account the upstream needs (or must renew it): answered as the built-in tools
     * answer it ({@link io.mcpoauth.resource.ToolResult#notConnected}). 2025-11-25: URLElicitationRequiredError
     * (-32042) with the connect URL and an elicitationId; 2026-07-28 with {@code elicitation.url}: an InputRequiredResult
     * with a URL input request and a sealed requestState (the retry after connecting reaches the upstream; a retry that
     * still finds no connection gets a tool error, not a loop); any other client: a tool error whose text gives the link.
     */
    private McpReply notConnected(McpCall call, String tool, ConnectionAccess.NotConnected e) {
        String url = e.connectUrl();
        if (url == null) return toolResult(call, McpTool.error(e.getMessage()));
        String key = "connect_" + e.connection().replaceAll("[^A-Za-z0-9_.\\-]", "_");
        String linked = e.getMessage().contains(url) ? e.getMessage() : e.getMessage() + " Connect at " + url + ", then call " + tool + " again.";
        if (call.era() == Era.LEGACY) {
            if (!io.mcpoauth.resource.ProtocolVersions.V2025_11_25.equals(call.protocolVersion())) return toolResult(call, McpTool.error(linked));
            ObjectNode data = Json.MAPPER.createObjectNode();
            data.putArray("elicitations").addObject().put("mode", "url").put("elicitationId", java.util.UUID.randomUUID().toString())
                    .put("url", url).put("message", e.getMessage());
            return McpReply.error(200, call.id(), McpReply.URL_ELICITATION_REQUIRED, "This request requires more information.", data);
        }
        JsonNode caps = call.params().path("_meta").path(io.mcpoauth.resource.EraRouter.META_CLIENT_CAPABILITIES);
        boolean canAskUrls = caps.path("elicitation").path("url").isObject();
        JsonNode arguments = call.params().path("arguments");
        String state = call.params().path("requestState").asText(null);
        boolean answered = state != null && gateway.openState(call.caller(), tool, arguments, state) && call.params().path("inputResponses").has(key);
        if (!canAskUrls || answered) return toolResult(call, McpTool.error(linked));
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("resultType", "input_required");
        result.putObject("inputRequests").putObject(key).put("method", "elicitation/create")
                .putObject("params").put("mode", "url").put("message", e.getMessage()).put("url", url);
        result.put("requestState", gateway.sealState(call.caller(), tool, arguments));
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("jsonrpc", "2.0");
        root.set("id", call.id());
        root.set("result", result);
        return McpReply.json(200, root);
    }

    private void audit(AuthContext caller, ServerRuntime r, String tool, String outcome, long t0) {
        gateway.events().gatewayToolCall(caller.userId(), caller.clientId(), r.entry.name(), tool, outcome, (System.nanoTime() - t0) / 1_000_000);
    }

    // ---- resources and prompts ----

    private McpReply list(McpCall call, String method, String key) {
        ArrayNode items = Json.MAPPER.createArrayNode();
        for (ServerRuntime m : members.values()) {
            if (!allowed(m, call.caller())) continue;
            List<JsonNode> got;
            try {
                got = Gateway.listAll(m, call.caller(), method, key);
            } catch (UpstreamException | ConnectionAccess.NotConnected | IllegalStateException e) {
                if (!prefixed) {
                    if (e instanceof UpstreamException u && u.rpcError() != null) return rpcError(call, u.code(), u.getMessage(), null);
                    return rpcError(call, McpReply.INTERNAL_ERROR, "The server " + m.entry.name() + " is unavailable: " + e.getMessage(), null);
                }
                log.info("/mcp: {} left out of {}: {}", m.entry.name(), method, e.getMessage());
                continue;
            }
            for (JsonNode item : got) {
                if (!item.isObject()) continue;
                ObjectNode copy = ((ObjectNode) item).deepCopy();
                if (prefixed) {
                    String prefix = m.entry.name();
                    if (key.equals("prompts")) copy.put("name", prefix + Gateway.SEPARATOR + copy.path("name").asText());
                    if (copy.path("uri").isTextual()) copy.put("uri", Gateway.URI_PREFIX + prefix + "/" + copy.get("uri").asText());
                    if (copy.path("uriTemplate").isTextual()) copy.put("uriTemplate", Gateway.URI_PREFIX + prefix + "/" + copy.get("uriTemplate").asText());
                }
                items.add(copy);
            }
        }
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.set(key, items);
        if (call.era() == Era.MODERN) { // 2026-07-28 list results carry cache hints; these depend on the caller
            result.put("ttlMs", ServerRuntime.TOOLS_CACHE_NANOS / 1_000_000);
            result.put("cacheScope", "private");
        }
        return reply(call, result);
    }

    private McpReply read(McpCall call) {
        String uri = call.params().path("uri").asText("");
        ServerRuntime r;
        String original;
        if (prefixed) {
            if (!uri.startsWith(Gateway.URI_PREFIX)) return rpcError(call, McpReply.INVALID_PARAMS, "Unknown resource: " + clip(uri), null);
            String rest = uri.substring(Gateway.URI_PREFIX.length());
            int slash = rest.indexOf('/');
            r = slash <= 0 ? null : members.get(rest.substring(0, slash));
            if (r == null) return rpcError(call, McpReply.INVALID_PARAMS, "Unknown resource: " + clip(uri), null);
            original = rest.substring(slash + 1);
        } else {
            r = members.values().iterator().next();
            original = uri;
        }
        if (!allowed(r, call.caller())) return rpcError(call, McpReply.INVALID_PARAMS, "Unknown resource: " + clip(uri), null);
        ObjectNode params = Json.MAPPER.createObjectNode().put("uri", original);
        try {
            JsonNode result = r.call(call.caller(), "resources/read", params).deepCopy();
            if (prefixed && result.path("contents").isArray()) {
                for (JsonNode c : result.get("contents")) {
                    if (c.isObject() && c.path("uri").isTextual()) ((ObjectNode) c).put("uri", Gateway.URI_PREFIX + r.entry.name() + "/" + c.get("uri").asText());
                }
            }
            return reply(call, result);
        } catch (UpstreamException e) {
            return e.rpcError() != null ? rpcError(call, e.code(), e.getMessage(), e.rpcError().get("data"))
                    : rpcError(call, McpReply.INTERNAL_ERROR, "The server " + r.entry.name() + " is unavailable: " + e.getMessage(), null);
        } catch (ConnectionAccess.NotConnected | ConnectionAccess.Unavailable | IllegalStateException e) {
            return rpcError(call, McpReply.INTERNAL_ERROR, e.getMessage(), null);
        }
    }

    private McpReply prompt(McpCall call) {
        String name = call.params().path("name").asText("");
        Target t = target(name);
        if (t == null || !allowed(t.server, call.caller())) return rpcError(call, McpReply.INVALID_PARAMS, "Unknown prompt: " + clip(name), null);
        ObjectNode params = Json.MAPPER.createObjectNode().put("name", t.name);
        if (call.params().path("arguments").isObject()) params.set("arguments", call.params().get("arguments"));
        return forwardTo(call, t.server, "prompts/get", params);
    }

    private McpReply forward(McpCall call) {
        ServerRuntime r = members.values().iterator().next();
        if (!allowed(r, call.caller())) return base.handle(call);
        JsonNode p = call.params();
        return forwardTo(call, r, call.method(), p.isObject() ? p : null);
    }

    private McpReply forwardTo(McpCall call, ServerRuntime r, String method, JsonNode params) {
        try {
            return reply(call, r.call(call.caller(), method, params).deepCopy());
        } catch (UpstreamException e) {
            return e.rpcError() != null ? rpcError(call, e.code(), e.getMessage(), e.rpcError().get("data"))
                    : rpcError(call, McpReply.INTERNAL_ERROR, "The server " + r.entry.name() + " is unavailable: " + e.getMessage(), null);
        } catch (ConnectionAccess.NotConnected | ConnectionAccess.Unavailable | IllegalStateException e) {
            return rpcError(call, McpReply.INTERNAL_ERROR, e.getMessage(), null);
        }
    }

    /** initialize / server/discover as the base answers them, with the resources and prompts capabilities added. */
    private McpReply withCapabilities(McpCall call) {
        McpReply r = base.handle(call);
        ObjectNode root = parse(r);
        if (root == null) return r;
        JsonNode caps = root.path("result").path("capabilities");
        if (!caps.isObject()) return r;
        ObjectNode c = (ObjectNode) caps;
        if (!c.has("tools")) c.putObject("tools");
        if (!c.has("resources")) c.putObject("resources");
        if (!c.has("prompts")) c.putObject("prompts");
        return McpReply.json(r.status(), root);
    }

    // ---- replies ----

    private static ObjectNode parse(McpReply r) {
        if (!r.hasBody()) return null;
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            return n instanceof ObjectNode o ? o : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** A result in the caller's era: modern results carry resultType and serverInfo. */
    private static McpReply reply(McpCall call, JsonNode result) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("jsonrpc", "2.0");
        root.set("id", call.id());
        if (call.era() == Era.MODERN && result instanceof ObjectNode o) {
            o.put("resultType", "complete");
            if (CACHEABLE.contains(call.method()) && !o.has("ttlMs")) { // 2026-07-28: reads carry cache hints; not cached, and per caller
                o.put("ttlMs", 0);
                o.put("cacheScope", "private");
            }
            ObjectNode meta = o.path("_meta").isObject() ? (ObjectNode) o.get("_meta") : o.putObject("_meta");
            meta.putObject("io.modelcontextprotocol/serverInfo").put("name", ToolBackend.SERVER_NAME).put("version", McpEndpoint.serverVersion());
        }
        root.set("result", result);
        return McpReply.json(200, root);
    }

    private static McpReply toolResult(McpCall call, io.modelcontextprotocol.spec.McpSchema.CallToolResult result) {
        return reply(call, Json.MAPPER.valueToTree(result));
    }

    private static McpReply rpcError(McpCall call, int code, String message, JsonNode data) {
        int status = 200;
        if (call.era() == Era.MODERN) {
            status = switch (code) {
                case McpReply.PARSE_ERROR, McpReply.INVALID_REQUEST, McpReply.INVALID_PARAMS -> 400;
                case McpReply.METHOD_NOT_FOUND -> 404;
                default -> 200;
            };
        }
        return McpReply.error(status, call.id(), code, message == null ? "error" : message, data);
    }

    private static String clip(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "...";
    }
}
