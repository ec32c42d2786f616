package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.file.Clients;

/**
 * Finds the client behind a {@code client_id}: a registered one from {@code clients.json}, or (when
 * {@link ClientIdMetadata} is enabled) an https URL whose Client ID Metadata Document is fetched and validated.
 */
public final class ClientRegistry {
    private final Clients clients;
    private final ClientIdMetadata metadataDocuments;

    /** @param metadataDocuments null disables Client ID Metadata Documents */
    public ClientRegistry(Clients clients, ClientIdMetadata metadataDocuments) {
        this.clients = clients;
        this.metadataDocuments = metadataDocuments;
    }

    /** The client, or null when unknown (for a metadata-document URL: when it cannot be fetched or is invalid). */
    public ClientRecord find(String clientId) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > 2000) return null;
        ClientRecord c = clients.get(clientId);
        if (c != null) return c;
        if (metadataDocuments != null && clientId.startsWith("https://")) return metadataDocuments.resolve(clientId);
        return null;
    }

    /** Like {@link #find} but a metadata document that cannot be used is reported with the reason (for error pages). */
    public ClientRecord require(String clientId) {
        if (clientId == null || clientId.isEmpty()) throw OAuthError.invalidRequest("The client_id parameter is missing.");
        ClientRecord c = clients.get(clientId);
        if (c != null) return c;
        if (metadataDocuments != null && clientId.startsWith("https://")) return metadataDocuments.require(clientId);
        throw OAuthError.invalidClient("The client_id is not registered with this server. Reconnect so the application can register again.");
    }

    public boolean metadataDocumentsEnabled() {
        return metadataDocuments != null;
    }

    /** Records that a registered client completed a grant (metadata-document clients are not stored). */
    public void markUsed(ClientRecord client, java.time.Instant now) {
        if (clients.get(client.clientId()) != null) clients.markUsed(client.clientId(), now);
    }
}
