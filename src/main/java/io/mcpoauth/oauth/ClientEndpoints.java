package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;

/** Placeholder: registration (RFC 7591/7592), revocation (RFC 7009) and introspection (RFC 7662) routes. */
public final class ClientEndpoints {
    public ClientEndpoints(OAuthServices services) {
    }

    public void routes(JavalinConfig config) {
    }
}
