package io.mcpoauth.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.List;

/**
 * A registered OAuth client as kept in {@code clients.json}. Secrets appear only as SHA-256 hashes.
 * {@code lastUsedAt} is set when the client first completes a grant (and refreshed at most hourly after that);
 * a client whose {@code lastUsedAt} is still empty may be evicted after {@code OAUTH_UNUSED_CLIENT_TTL}.
 * {@code applicationType} is what the client registered as ({@code native} or {@code web}, OpenID Connect Dynamic
 * Client Registration; MCP 2026-07-28 clients must send it), null when it sent none.
 */
public record ClientRecord(
        String clientId,
        String clientName,
        List<String> redirectUris,
        List<String> grantTypes,
        List<String> responseTypes,
        String tokenEndpointAuthMethod,
        String scope,
        String clientUri,
        String softwareId,
        String softwareVersion,
        Instant createdAt,
        Instant lastUsedAt,
        String clientSecretHash,
        String registrationTokenHash,
        String applicationType) {

    public ClientRecord {
        redirectUris = redirectUris == null ? List.of() : List.copyOf(redirectUris);
        grantTypes = grantTypes == null ? List.of() : List.copyOf(grantTypes);
        responseTypes = responseTypes == null ? List.of() : List.copyOf(responseTypes);
    }

    /** A client registered without {@code application_type} (clients of MCP 2025-11-25 and earlier). */
    public ClientRecord(String clientId, String clientName, List<String> redirectUris, List<String> grantTypes, List<String> responseTypes,
                        String tokenEndpointAuthMethod, String scope, String clientUri, String softwareId, String softwareVersion,
                        Instant createdAt, Instant lastUsedAt, String clientSecretHash, String registrationTokenHash) {
        this(clientId, clientName, redirectUris, grantTypes, responseTypes, tokenEndpointAuthMethod, scope, clientUri, softwareId,
                softwareVersion, createdAt, lastUsedAt, clientSecretHash, registrationTokenHash, null);
    }

    @JsonIgnore // derived from tokenEndpointAuthMethod: not a stored field (editing it in clients.json would do nothing)
    public boolean isPublic() {
        return "none".equals(tokenEndpointAuthMethod);
    }

    public ClientRecord withLastUsedAt(Instant t) {
        return new ClientRecord(clientId, clientName, redirectUris, grantTypes, responseTypes, tokenEndpointAuthMethod, scope,
                clientUri, softwareId, softwareVersion, createdAt, t, clientSecretHash, registrationTokenHash, applicationType);
    }
}
