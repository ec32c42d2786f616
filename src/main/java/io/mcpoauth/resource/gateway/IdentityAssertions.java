package io.mcpoauth.resource.gateway;

import io.mcpoauth.core.AuthContext;

/**
 * Mints the identity assertion sent to an upstream with {@code "identity": "jwt"}: a short-lived JWT signed by this
 * server ({@code iss} our issuer, {@code aud} = {@code audience}, {@code sub} = the user id), sent as
 * {@code Authorization: Bearer <assertion>}. The audience is the entry's URL ({@code mcp-server:NAME} for stdio).
 * Identity assertions apply to HTTP upstreams: a stdio process lives longer than one call, so it gets the user in its
 * environment instead ({@code MCP_USER_ID}, {@code MCP_USERNAME}, per-user processes only).
 */
@FunctionalInterface
public interface IdentityAssertions {
    String assertion(AuthContext caller, String audience);
}
