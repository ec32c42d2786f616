package io.mcpoauth.resource.tools;

import io.mcpoauth.connect.ConnectEndpoints;
import io.mcpoauth.connect.Connections;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.resource.McpTool;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code connections_status}: the caller's own connections (every configured one: connected, needs reconnect or not
 * connected, the account, scopes, expiry, and where to connect). Never shows a token, never another user's.
 */
public final class ConnectionsStatusTool implements McpTool {
    private final String scope;
    private final Connections connections;

    public ConnectionsStatusTool(String requiredScope, Connections connections) {
        this.scope = requiredScope;
        this.connections = connections;
    }

    @Override
    public String name() {
        return "connections_status";
    }

    @Override
    public String description() {
        return "Lists the third-party accounts you connected to this server (and those you can connect): status, account, scopes, "
                + "expiry, and the link to connect or reconnect.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("My connections", true, false, true, false, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Connections.View v : connections.views(ctx.userId())) out.add(ConnectEndpoints.json(v));
        return McpTool.json(Map.of("connections", out));
    }
}
