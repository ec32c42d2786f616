package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.store.StoreException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tools of an endpoint, checked once (unique valid names, each implementing a {@code call}), and the one place a
 * tool is run, whatever the era: the caller must be authenticated and hold the tool's scopes (the gate answered 403
 * before; this is the second lock on the same door), the call is counted, and nothing a tool throws escapes (a storage
 * failure or a bug becomes a tool error result; only the exception class is logged, never the arguments).
 */
final class ToolRunner {
    private static final Logger log = LoggerFactory.getLogger(ToolRunner.class);
    private static final Pattern TOOL_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");

    private final Map<String, McpTool> byName = new LinkedHashMap<>();
    private final Map<String, Set<String>> scopes = new LinkedHashMap<>();
    private final Map<String, LongAdder> callsByTool = new LinkedHashMap<>();
    private final LongAdder toolCalls = new LongAdder();

    /** @throws IllegalArgumentException for a duplicate or invalid name, or a tool without a {@code call} */
    ToolRunner(List<McpTool> tools) {
        for (McpTool t : tools) {
            if (!TOOL_NAME.matcher(t.name()).matches()) throw new IllegalArgumentException("invalid tool name: " + t.name());
            if (byName.containsKey(t.name())) throw new IllegalArgumentException("duplicate tool name: " + t.name());
            if (!McpTool.implementsCall(t)) throw new IllegalArgumentException(t.name() + " overrides neither call(AuthContext, Map) nor call(ToolCall)");
            byName.put(t.name(), t);
            scopes.put(t.name(), scopesOf(t.requiredScope()));
            callsByTool.put(t.name(), new LongAdder());
        }
    }

    /** In registration order: the order of every tools/list (deterministic, as 2026-07-28 asks). */
    List<McpTool> tools() {
        return List.copyOf(byName.values());
    }

    McpTool find(String name) {
        return name == null ? null : byName.get(name);
    }

    /** Tool name to the scopes a call needs (for the gate's 403). */
    Map<String, Set<String>> scopes() {
        return Collections.unmodifiableMap(scopes);
    }

    /** Whether {@code caller} holds every scope {@code tool} needs (the tools a modern tools/list shows the caller). */
    boolean permits(McpTool tool, AuthContext caller) {
        return caller != null && caller.scopes().containsAll(scopes.get(tool.name()));
    }

    /** Runs one round of {@code call}; never throws, never returns null. */
    ToolResult run(McpTool tool, ToolCall call) {
        AuthContext ctx = call.caller();
        if (ctx == null) return ToolResult.of(McpTool.error("not authenticated"));
        Set<String> needed = scopes.get(tool.name());
        if (!ctx.scopes().containsAll(needed)) return ToolResult.of(McpTool.error("insufficient scope: needs " + String.join(" ", needed)));
        toolCalls.increment();
        callsByTool.get(tool.name()).increment();
        try {
            ToolResult r = tool.call(call);
            return r == null ? ToolResult.of(McpTool.error("the tool returned nothing")) : r;
        } catch (ConnectionAccess.NotConnected e) {
            return ToolResult.notConnected(e, call);
        } catch (ConnectionAccess.Unavailable e) {
            return ToolResult.of(McpTool.error(e.getMessage()));
        } catch (StoreException e) {
            log.warn("tool {} failed: storage unavailable: {}", tool.name(), e.getMessage());
            return ToolResult.of(McpTool.error("storage is temporarily unavailable; try again"));
        } catch (RuntimeException e) {
            log.warn("tool {} failed: {}", tool.name(), e.getClass().getName());
            return ToolResult.of(McpTool.error("internal error"));
        }
    }

    long toolCalls() {
        return toolCalls.sum();
    }

    Map<String, Long> toolCallsByTool() {
        Map<String, Long> out = new LinkedHashMap<>();
        callsByTool.forEach((k, v) -> out.put(k, v.sum()));
        return Collections.unmodifiableMap(out);
    }

    static Set<String> scopesOf(String requiredScope) {
        Set<String> s = new LinkedHashSet<>();
        if (requiredScope != null) {
            for (String part : requiredScope.trim().split("\\s+")) {
                if (!part.isEmpty()) s.add(part);
            }
        }
        return Collections.unmodifiableSet(s);
    }
}
