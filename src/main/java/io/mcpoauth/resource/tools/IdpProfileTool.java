package io.mcpoauth.resource.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.IdpAccess;
import io.mcpoauth.core.Json;
import io.mcpoauth.idp.ProfileEndpoint;
import io.mcpoauth.resource.McpTool;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code upstream_profile}: the caller's profile from the upstream provider's userinfo endpoint, fetched with the
 * caller's own upstream access token ({@link AuthContext#upstreamAccessToken()}), never with the client's bearer
 * token. Answers {"provider": ..., "profile": {...}}. Registered only when users sign in upstream.
 */
public final class IdpProfileTool implements McpTool {
    private static final int MAX_BODY = 256 * 1024;
    private final String scope;
    private final ProfileEndpoint endpoint;
    private final HttpClient http;

    public IdpProfileTool(String requiredScope, ProfileEndpoint endpoint) {
        this.scope = requiredScope;
        this.endpoint = endpoint;
        this.http = HttpClient.newBuilder().connectTimeout(endpoint.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public String name() {
        return "upstream_profile";
    }

    @Override
    public String description() {
        return "Shows your profile at " + endpoint.displayName() + " (the account you signed in with), read from "
                + endpoint.displayName() + " with your own credentials.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("My upstream profile", true, false, true, true, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        if (endpoint.userinfoUrl() == null) return McpTool.error(endpoint.displayName() + " has no userinfo endpoint.");
        String token;
        try {
            token = ctx.upstreamAccessToken();
        } catch (IdpAccess.ReauthenticationRequired | IdpAccess.Unavailable e) {
            return McpTool.error(e.getMessage());
        }
        HttpRequest req = HttpRequest.newBuilder(endpoint.userinfoUrl()).timeout(endpoint.timeout()).GET()
                .header("Authorization", "Bearer " + token)
                .header("Accept", endpoint.accept() == null ? "application/json" : endpoint.accept())
                .header("User-Agent", "mcp-oauth-server")
                .build();
        JsonNode profile;
        try {
            HttpResponse<InputStream> r = http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream())
                    .get(endpoint.timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            byte[] body;
            try (InputStream in = r.body()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                return McpTool.error(endpoint.displayName() + " refused your stored credentials (HTTP " + r.statusCode()
                        + "). Re-authentication may be required: sign in again.");
            }
            if (r.statusCode() != 200 || body.length > MAX_BODY) {
                return McpTool.error(endpoint.displayName() + " did not return your profile (HTTP " + r.statusCode() + "). Try again later.");
            }
            profile = Json.MAPPER.readTree(body);
        } catch (java.util.concurrent.TimeoutException e) {
            return McpTool.error(endpoint.displayName() + " did not answer within " + endpoint.timeout().toSeconds() + " s. Try again later.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return McpTool.error("interrupted");
        } catch (java.util.concurrent.ExecutionException | IOException e) {
            return McpTool.error(endpoint.displayName() + " could not be reached. Try again later.");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("provider", endpoint.provider());
        out.put("profile", profile);
        return McpTool.json(out);
    }
}
