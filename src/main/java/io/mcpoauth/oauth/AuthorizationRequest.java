package io.mcpoauth.oauth;

import io.mcpoauth.store.ClientRecord;
import java.util.Set;

/**
 * A validated request to {@code /authorize}.
 *
 * @param redirectUri      the redirect URI to answer on (as sent, so a loopback URI keeps its port)
 * @param redirectUriGiven whether the client sent redirect_uri (then the token request must repeat it)
 * @param state            the client's state, echoed exactly; may be null
 */
public record AuthorizationRequest(
        ClientRecord client,
        String redirectUri,
        boolean redirectUriGiven,
        String state,
        String codeChallenge,
        Set<String> scopes,
        String resource) {

    public AuthorizationRequest {
        scopes = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(scopes)); // keeps the order asked for
    }
}
