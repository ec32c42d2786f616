package io.mcpoauth.resource.tools;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.resource.McpTool;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/** {@code whoami}: who the server thinks is calling, as JSON {subject, username, provider, client_id, scopes}. */
public final class WhoamiTool implements McpTool {
    private final String scope;

    public WhoamiTool(String requiredScope) {
        this.scope = requiredScope;
    }

    @Override
    public String name() {
        return "whoami";
    }

    @Override
    public String description() {
        return "Shows who you are signed in as: subject (stable user id), username, identity provider, OAuth client id and granted scopes.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("Who am I", true, false, true, false, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("subject", ctx.userId());
        out.put("username", ctx.username());
        out.put("provider", ctx.provider());
        out.put("client_id", ctx.clientId());
        out.put("scopes", ctx.scopes() == null ? java.util.List.of() : new TreeSet<>(ctx.scopes()));
        return McpTool.json(out);
    }
}
