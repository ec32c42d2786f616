package io.mcpoauth.resource;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.BearerAuthenticator;
import java.util.function.Predicate;

/**
 * One more MCP endpoint beside {@code /mcp} (a gateway's {@code /mcp/NAME}), behind the same gate as {@code /mcp}
 * ({@link McpAuthFilter}), with its own audience and metadata.
 *
 * @param path                where it is mounted, e.g. {@code /mcp/files}
 * @param backend             what answers its messages
 * @param authenticator       accepts only tokens issued for this endpoint's resource
 * @param resourceMetadataUrl named in its challenges
 * @param scope               the scope(s) every message needs (403 {@code insufficient_scope}); null for none
 * @param admits              who may use it at all (403 otherwise)
 */
public record McpRoute(String path, McpBackend backend, BearerAuthenticator authenticator, String resourceMetadataUrl, String scope,
                       Predicate<AuthContext> admits) {
}
