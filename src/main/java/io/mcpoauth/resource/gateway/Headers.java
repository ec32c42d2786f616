package io.mcpoauth.resource.gateway;

import io.mcpoauth.config.McpServers;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.ConnectionAccess;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The credentials the gateway sends an HTTP upstream for one caller: the entry's static headers, then the identity
 * assertion ({@code identity: jwt}) or the user's connection token ({@code connection}). Never the client's token.
 */
final class Headers {
    private Headers() {}

    static Map<String, String> forCall(McpServers.Entry entry, IdentityAssertions identity, AuthContext caller) {
        Map<String, String> out = new LinkedHashMap<>(entry.headers());
        if ("jwt".equals(entry.identity())) {
            if (identity == null) throw new IllegalStateException("identity jwt is not available");
            out.put("Authorization", "Bearer " + identity.assertion(caller, entry.audience()));
        }
        McpServers.Connection c = entry.connection();
        if (c != null && !c.kind().equals("env")) {
            ConnectionAccess.Token t = caller.connection(c.name());
            if (c.kind().equals("bearer")) out.put("Authorization", "Bearer " + t.accessToken());
            else out.put(c.target(), t.accessToken());
        }
        return out;
    }
}
