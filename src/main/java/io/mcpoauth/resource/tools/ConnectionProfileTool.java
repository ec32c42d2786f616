package io.mcpoauth.resource.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.connect.ConnectionProvider;
import io.mcpoauth.connect.Connections;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.ConnectionAccess;
import io.mcpoauth.core.Json;
import io.mcpoauth.resource.McpTool;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code connection_profile}: who you are at a connected service, read from its userinfo endpoint with your own
 * connection token ({@link AuthContext#connection}), refreshed when needed. A missing connection is answered by the
 * endpoint with the connect link (URL elicitation where the client supports it).
 */
public final class ConnectionProfileTool implements McpTool {
    private static final int MAX_BODY = 256 * 1024;
    private final String scope;
    private final Connections connections;
    private final Duration timeout;
    private final HttpClient http;

    public ConnectionProfileTool(String requiredScope, Connections connections, Duration timeout) {
        this.scope = requiredScope;
        this.connections = connections;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Whether any configured connection has a userinfo endpoint (otherwise the tool is not offered). */
    public static boolean useful(Connections connections) {
        return connections.providers().all().stream().anyMatch(p -> p.oauth() && p.userinfoEndpoint() != null);
    }

    @Override
    public String name() {
        return "connection_profile";
    }

    @Override
    public String description() {
        return "Shows your profile at a service you connected (its user information, read with your own connection), e.g. to check "
                + "which account a connection uses.";
    }

    @Override
    public Map<String, Object> inputSchema() {
        List<String> names = connections.providers().all().stream().filter(p -> p.oauth() && p.userinfoEndpoint() != null)
                .map(ConnectionProvider::name).toList();
        Map<String, Object> name = new LinkedHashMap<>();
        name.put("type", "string");
        name.put("description", "the connection's name");
        name.put("enum", names);
        return McpTool.objectSchema(Map.of("name", name), "name");
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("My profile at a connected service", true, false, true, true, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        String name = String.valueOf(args.get("name"));
        ConnectionProvider p = connections.providers().get(name);
        if (p == null || !p.oauth() || p.userinfoEndpoint() == null) return McpTool.error("No connection named '" + name + "' has a profile to show.");
        ConnectionAccess.Token token = ctx.connection(name); // NotConnected / Unavailable: answered by the endpoint
        HttpRequest req = HttpRequest.newBuilder(URI.create(p.userinfoEndpoint())).timeout(timeout).GET()
                .header("Authorization", "Bearer " + token.accessToken()).header("Accept", "application/json").header("User-Agent", "mcp-oauth-server")
                .build();
        try {
            HttpResponse<InputStream> r = http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream())
                    .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            byte[] body;
            try (InputStream in = r.body()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                return McpTool.error(p.displayName() + " refused your connection (HTTP " + r.statusCode() + "). Reconnect at "
                        + connections.connectUrl(name) + ".");
            }
            if (r.statusCode() != 200 || body.length > MAX_BODY) {
                return McpTool.error(p.displayName() + " did not return your profile (HTTP " + r.statusCode() + "). Try again later.");
            }
            JsonNode profile = Json.MAPPER.readTree(body);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("connection", name);
            out.put("account", token.account());
            out.put("profile", profile);
            return McpTool.json(out);
        } catch (java.util.concurrent.TimeoutException e) {
            return McpTool.error(p.displayName() + " did not answer within " + timeout.toSeconds() + " s. Try again later.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return McpTool.error("interrupted");
        } catch (java.util.concurrent.ExecutionException | IOException e) {
            return McpTool.error(p.displayName() + " could not be reached. Try again later.");
        }
    }
}
