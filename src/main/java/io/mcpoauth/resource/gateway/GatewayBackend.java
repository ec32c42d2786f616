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
import java.time.Instant;
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
        this.inFlight = gateway.inFlight(prefixed ? "" : members.keySet().iterator().next());
    }

    /** Upstream tool calls in flight by (user, client, request id), for the client's notifications/cancelled; bounded. */
    /** Shared by the backends of one endpoint across reloads of the servers file (a cancellation finds a call begun before). */
    private final java.util.concurrent.ConcurrentHashMap<String, Cancellation> inFlight;
    static final int MAX_IN_FLIGHT = 10_000;

    private static String flightKey(AuthContext caller, JsonNode requestId) {
        return caller.userId() + "\n" + caller.clientId() + "\n" + requestId;
    }

    @Override
    public McpReply handle(McpCall call) {
        if (call.isResponse()) return relayResponse(call);
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
            return McpReply.stream(raw -> {
                java.util.function.Consumer<byte[]> event = serialized(raw);
                event.accept(upstreamCall(call, r, t, params, t0, n -> event.accept(n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), event, null).body());
            });
        }
        if (call.era() == Era.LEGACY) { // JSON, or an SSE stream once the upstream sends the client a request (elicitation...)
            return McpReply.adaptive(event -> upstreamCall(call, r, t, params, t0, null, event, null).body());
        }
        return modernCall(call, r, t, params, t0);
    }

    // ---- 2026-07-28: the upstream's requests become input requests of a multi-round-trip call ----

    private static final String INPUT_KEY = "upstream";
    private static final String INPUT_REQUIRED = "input_required";
    /** How many InputRequiredResults of a 2026-07-28 upstream one legacy call answers before giving up. */
    static final int MAX_INPUT_ROUNDS = 8;

    /** A 2026-07-28 upstream's InputRequiredResult for a modern client: as is, its requestState bound to the user and tool. */
    private McpReply inputRequiredOfUpstream(McpCall call, ObjectNode result, String shown) {
        JsonNode capabilities = call.params().path("_meta").path(io.mcpoauth.resource.EraRouter.META_CLIENT_CAPABILITIES);
        for (JsonNode q : result.path("inputRequests")) { // never an input request the client did not declare (basic/patterns/mrtr)
            String capability = switch (q.path("method").asText()) {
                case "elicitation/create" -> "elicitation";
                case "sampling/createMessage" -> "sampling";
                case "roots/list" -> "roots";
                default -> null;
            };
            if (capability == null || !capabilities.has(capability)) {
                return toolResult(call, McpTool.error("The server needs input this client did not declare it can give ("
                        + (capability == null ? q.path("method").asText() : capability) + ")."));
            }
        }
        if (result.path("requestState").isTextual()) {
            result.put("requestState", gateway.rounds.sealUpstream(call.caller().userId(), shown, result.get("requestState").asText()));
        }
        result.remove("_meta");
        result.putObject("_meta").putObject("io.modelcontextprotocol/serverInfo").put("name", ToolBackend.SERVER_NAME).put("version", McpEndpoint.serverVersion());
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("jsonrpc", "2.0");
        root.set("id", call.id());
        root.set("result", result);
        return McpReply.json(200, root);
    }

    /**
     * A modern tools/call of an upstream tool: the upstream call runs on a thread of {@link InputRounds}; when it asks
     * the client something the answer is an InputRequiredResult (the request as {@code inputRequests.upstream}, a
     * sealed {@code requestState}), and the retry carrying {@code inputResponses.upstream} and that requestState hands
     * the answer to the still-pending upstream call. A requestState the gateway did not make goes to the upstream as is.
     */
    private McpReply modernCall(McpCall call, ServerRuntime r, Target t, ObjectNode params, long t0) {
        AuthContext caller = call.caller();
        InputRounds rounds = gateway.rounds;
        String shown = call.params().path("name").asText("");
        JsonNode stateNode = call.params().get("requestState");
        String state = stateNode != null && stateNode.isTextual() ? stateNode.asText() : null;
        boolean afterConnect = Gateway.connectState(state);
        if (afterConnect) { // the retry after the user connected (the connection was checked before): a fresh call upstream
            state = null;
            stateNode = null;
        }
        if (InputRounds.ours(state)) {
            InputRounds.Round round = rounds.open(state, caller.userId(), shown);
            if (round == null) {
                return rpcError(call, McpReply.INVALID_PARAMS, "Invalid requestState: it is not this user's, names another tool, has expired, or its call has ended", null);
            }
            InputRounds.Event asked = round.waiting;
            JsonNode answer = call.params().path("inputResponses").get(INPUT_KEY);
            if (asked == null) return rpcError(call, McpReply.INVALID_PARAMS, "Invalid requestState: this round was answered already", null);
            if (answer == null || !answer.isObject()) return inputRequired(call, rounds, round, asked); // asked again
            round.waiting = null;
            asked.respond().accept(Json.MAPPER.createObjectNode().set("result", answer));
            return progressToken(call) == null ? awaitRound(call, rounds, round, r, null)
                    : McpReply.adaptive(event -> awaitRound(call, rounds, round, r, event).body());
        }
        if (InputRounds.upstreams(state)) { // the retry of a 2026-07-28 upstream's own InputRequiredResult
            String upstreamState = rounds.openUpstream(state, caller.userId(), shown);
            if (upstreamState == null) return rpcError(call, McpReply.INVALID_PARAMS, "Invalid requestState: it is not this user's or names another tool", null);
            params.put("requestState", upstreamState);
        } else if (stateNode != null) {
            return rpcError(call, McpReply.INVALID_PARAMS, "Invalid requestState: the gateway did not issue it", null);
        }
        if (!afterConnect && call.params().path("inputResponses").isObject()) params.set("inputResponses", call.params().get("inputResponses"));
        if (afterConnect) {
            params.remove("requestState");
            params.remove("inputResponses");
        }
        JsonNode capabilities = call.params().path("_meta").path(io.mcpoauth.resource.EraRouter.META_CLIENT_CAPABILITIES);
        InputRounds.Round round = rounds.open(caller.userId(), shown, r.entry.timeout().toNanos() + 5_000_000_000L);
        if (round == null) return toolResult(call, McpTool.error("Too many of your calls are waiting for answers; answer or drop one first."));
        Cancellation.ServerRequests asks = (request, respond) -> {
            String method = request.path("method").asText();
            String capability = switch (method) {
                case "elicitation/create" -> "elicitation";
                case "sampling/createMessage" -> "sampling";
                case "roots/list" -> "roots";
                default -> null;
            };
            if (capability == null || !capabilities.has(capability)) {
                ObjectNode refusal = Json.MAPPER.createObjectNode();
                refusal.putObject("error").put("code", McpReply.METHOD_NOT_FOUND)
                        .put("message", capability == null ? "The gateway does not relay " + method : "The client did not declare the " + capability + " capability");
                respond.accept(refusal);
                return;
            }
            round.offer(new InputRounds.Event(request, respond, null, null));
        };
        JsonNode token = progressToken(call);
        java.util.function.Consumer<JsonNode> progress = null;
        if (token != null) { // 2026-07-28: progress notifications on the request's own SSE answer (basic/transports/streamable-http)
            ObjectNode meta = params.path("_meta").isObject() ? (ObjectNode) params.get("_meta") : params.putObject("_meta");
            meta.set("progressToken", token);
            progress = n -> round.offer(new InputRounds.Event(null, null, null, n));
        }
        java.util.function.Consumer<JsonNode> onProgress = progress;
        boolean started = rounds.start(() -> {
            McpReply done;
            try {
                done = upstreamCall(call, r, t, params, t0, onProgress, null, asks);
            } catch (RuntimeException e) {
                done = McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
            }
            round.offer(new InputRounds.Event(null, null, done, null));
        });
        if (!started) {
            rounds.close(round);
            return toolResult(call, McpTool.error("The gateway has too many calls in progress; try again shortly."));
        }
        return token == null ? awaitRound(call, rounds, round, r, null) : McpReply.adaptive(event -> awaitRound(call, rounds, round, r, event).body());
    }

    /** A modern request's {@code _meta.progressToken} (a string or an integer), or null. */
    private static JsonNode progressToken(McpCall call) {
        JsonNode token = call.params().path("_meta").get("progressToken");
        return token != null && (token.isTextual() || token.isIntegralNumber()) ? token : null;
    }

    /**
     * Waits for the round's next event: the final reply (the round ends) or a request to ask the client; progress
     * notifications meanwhile go to {@code progress} (the answer's SSE stream) with this request's token, or are dropped.
     */
    private McpReply awaitRound(McpCall call, InputRounds rounds, InputRounds.Round round, ServerRuntime r, java.util.function.Consumer<byte[]> progress) {
        try {
            InputRounds.Event e;
            while (true) {
                long left = round.deadlineNanos - System.nanoTime();
                e = left <= 0 ? null : round.events.poll(left, java.util.concurrent.TimeUnit.NANOSECONDS);
                if (e == null || e.progress() == null) break;
                JsonNode token = progressToken(call);
                if (progress != null && token != null && e.progress().path("params").isObject()) {
                    ObjectNode n = e.progress().deepCopy();
                    ((ObjectNode) n.get("params")).set("progressToken", token);
                    progress.accept(n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            if (e == null) {
                rounds.close(round);
                return toolResult(call, McpTool.error("The server " + r.entry.name() + " did not answer within " + r.entry.timeout().toSeconds() + " s."));
            }
            if (e.reply() != null) {
                rounds.close(round);
                return e.reply();
            }
            round.waiting = e;
            return inputRequired(call, rounds, round, e);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            rounds.close(round);
            return McpReply.error(200, call.id(), McpReply.INTERNAL_ERROR, "Internal error", null);
        }
    }

    /** {"resultType":"input_required","inputRequests":{"upstream":{method, params}},"requestState":...}. */
    private static McpReply inputRequired(McpCall call, InputRounds rounds, InputRounds.Round round, InputRounds.Event asked) {
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("resultType", "input_required");
        ObjectNode q = result.putObject("inputRequests").putObject(INPUT_KEY);
        q.put("method", asked.request().path("method").asText());
        if (asked.request().path("params").isObject()) {
            ObjectNode p = ((ObjectNode) asked.request().get("params")).deepCopy();
            p.remove("_meta");
            if ("elicitation/create".equals(q.path("method").asText()) && !p.has("mode")) p.put("mode", "form");
            q.set("params", p);
        }
        result.put("requestState", rounds.seal(round));
        result.putObject("_meta").putObject("io.modelcontextprotocol/serverInfo").put("name", ToolBackend.SERVER_NAME).put("version", McpEndpoint.serverVersion());
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("jsonrpc", "2.0");
        root.set("id", call.id());
        root.set("result", result);
        return McpReply.json(200, root);
    }

    /** {@code event}, one message at a time (the upstream's requests may come from a transport's reader thread). */
    private static java.util.function.Consumer<byte[]> serialized(java.util.function.Consumer<byte[]> event) {
        Object lock = new Object();
        return b -> {
            synchronized (lock) {
                event.accept(b);
            }
        };
    }

    // ---- requests of upstreams to the client, relayed during a call (legacy era) ----

    /**
     * The handler of the upstream's requests during one call: each is sent to the client on the call's SSE answer
     * under an id of ours ({@link Relays}, bound to the caller), {@code relayed} collects them to forget when the call
     * ends. Over the caps the upstream gets a JSON-RPC error at once.
     */
    private Cancellation.ServerRequests relayTo(AuthContext caller, ServerRuntime r, java.util.function.Consumer<byte[]> event, List<String> relayed) {
        return (request, respond) -> {
            String ours = gateway.relays.register(caller.userId(), respond, r.entry.timeout().toNanos());
            if (ours == null) {
                ObjectNode refusal = Json.MAPPER.createObjectNode();
                refusal.putObject("error").put("code", McpReply.INTERNAL_ERROR)
                        .put("message", "Too many requests are waiting for this user's answers; the gateway did not relay " + request.path("method").asText());
                respond.accept(refusal);
                return;
            }
            relayed.add(ours);
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put("jsonrpc", "2.0");
            out.put("id", ours);
            out.put("method", request.path("method").asText());
            if (request.path("params").isObject()) out.set("params", request.get("params"));
            log.debug("gateway: {} from {} relayed to the client", request.path("method").asText(), r.entry.name());
            event.accept(out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        };
    }

    /**
     * A client's response to a relayed request: delivered to the upstream (202) only for its id and its user; else 400
     * (not 404, which a legacy client takes for a lost session).
     */
    private McpReply relayResponse(McpCall call) {
        if (gateway.relays.deliver(call.caller().userId(), call.id(), call.message())) return McpReply.accepted();
        return McpReply.error(400, call.id(), McpReply.INVALID_REQUEST,
                "No request is waiting for a response with this id (unknown, answered already, or its call has ended)", null);
    }

    /** The upstream's tools/call, answered as JSON; counted and audited. */
    private McpReply upstreamCall(McpCall call, ServerRuntime r, Target t, ObjectNode params, long t0, java.util.function.Consumer<JsonNode> progress,
                                  java.util.function.Consumer<byte[]> toClient, Cancellation.ServerRequests handler) {
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
        List<String> relayed = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        if (toClient != null || handler != null) {
            if (cancellation == null) cancellation = new Cancellation();
            cancellation.serverRequests(toClient != null ? relayTo(caller, r, serialized(toClient), relayed) : handler);
        }
        if (call.link() != null) { // 2026-07-28: the client closing its answer stream cancels the call upstream too
            if (cancellation == null) cancellation = new Cancellation();
            call.link().onGone(cancellation::cancel);
        }
        try {
            Instant deadline = Instant.now().plus(r.entry.timeout());
            JsonNode result = r.call(caller, "tools/call", params, r.entry.timeout(), progress, cancellation);
            if (INPUT_REQUIRED.equals(result.path("resultType").asText())) { // a 2026-07-28 upstream asks the client something
                if (call.era() == Era.MODERN) {
                    outcome = "input_required";
                    return inputRequiredOfUpstream(call, result.deepCopy(), call.params().path("name").asText(""));
                }
                Cancellation.ServerRequests relay = cancellation == null ? null : cancellation.serverRequests();
                for (int round = 0; INPUT_REQUIRED.equals(result.path("resultType").asText()); round++) {
                    if (relay == null || round >= MAX_INPUT_ROUNDS) {
                        return toolResult(call, McpTool.error("The server " + r.entry.name() + " needs answers this client cannot give here."));
                    }
                    ObjectNode answers = Json.MAPPER.createObjectNode();
                    var it = result.path("inputRequests").fields();
                    while (it.hasNext()) {
                        var q = it.next();
                        java.util.concurrent.CompletableFuture<JsonNode> answer = new java.util.concurrent.CompletableFuture<>();
                        relay.request(q.getValue(), answer::complete);
                        JsonNode got;
                        try {
                            got = answer.get(Math.max(1, java.time.Duration.between(Instant.now(), deadline).toMillis()), java.util.concurrent.TimeUnit.MILLISECONDS);
                        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                            return toolResult(call, McpTool.error("The server " + r.entry.name() + " asked a question that was not answered in time."));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return toolResult(call, McpTool.error("The call was interrupted."));
                        }
                        if (got.has("error")) {
                            return toolResult(call, McpTool.error("The client did not answer the question of " + r.entry.name() + ": "
                                    + got.path("error").path("message").asText("refused") + "."));
                        }
                        answers.set(q.getKey(), got.path("result"));
                    }
                    ObjectNode retry = params.deepCopy();
                    retry.set("inputResponses", answers);
                    if (result.path("requestState").isTextual()) retry.set("requestState", result.get("requestState"));
                    else retry.remove("requestState");
                    java.time.Duration left = java.time.Duration.between(Instant.now(), deadline);
                    if (left.isNegative() || left.isZero()) throw new UpstreamException("the server " + r.entry.name() + " did not finish within " + r.entry.timeout().toSeconds() + " s");
                    result = r.call(caller, "tools/call", retry, left, progress, cancellation);
                }
            }
            outcome = result.path("isError").asBoolean(false) ? "tool_error" : "ok";
            ObjectNode copy = result.deepCopy();
            if (call.era() == Era.LEGACY) copy.remove("resultType");
            return reply(call, copy);
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
            synchronized (relayed) {
                relayed.forEach(gateway.relays::forget);
            }
            if (key != null) inFlight.remove(key, cancellation);
            long elapsed = System.nanoTime() - t0;
            r.stats.record(elapsed, !outcome.equals("ok") && !outcome.equals("tool_error"));
            audit(caller, r, t.name, outcome, t0);
        }
    }

    /**
     * The caller has not connected the account the upstream needs (or must renew it): answered as the built-in tools
     * answer it ({@link io.mcpoauth.resource.ToolResult#notConnected}). 2025-11-25 with {@code elicitation.url} declared
     * in the session (or no session named): URLElicitationRequiredError (-32042) with the connect URL and an
     * elicitationId, announced complete on the session's stream once the user connected; 2026-07-28 with {@code elicitation.url}: an InputRequiredResult
     * with a URL input request and a sealed requestState (the retry after connecting reaches the upstream; a retry that
     * still finds no connection gets a tool error, not a loop); any other client: a tool error whose text gives the link.
     */
    private McpReply notConnected(McpCall call, String tool, ConnectionAccess.NotConnected e) {
        String url = e.connectUrl();
        if (url == null) return toolResult(call, McpTool.error(e.getMessage()));
        String key = "connect_" + e.connection().replaceAll("[^A-Za-z0-9_.\\-]", "_");
        String linked = e.getMessage().contains(url) ? e.getMessage() : e.getMessage() + " Connect at " + url + ", then call " + tool + " again.";
        if (call.era() == Era.LEGACY) {
            if (!call.urlElicitationRequired()) return toolResult(call, McpTool.error(linked));
            ObjectNode data = Json.MAPPER.createObjectNode();
            data.putArray("elicitations").addObject().put("mode", "url").put("elicitationId", call.connectElicitation(e.connection()))
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
