package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the client behind a {@code client_id}: a registered one from {@code clients.json}, or (when
 * {@link ClientIdMetadata} is enabled) an https URL whose Client ID Metadata Document is fetched and validated.
 */
public final class ClientRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ClientRegistry.class);
    private static final Duration LAST_USED_RESOLUTION = Duration.ofHours(1);
    private final ClientStore clients;
    private final ClientIdMetadata metadataDocuments;

    /** @param metadataDocuments null disables Client ID Metadata Documents */
    public ClientRegistry(ClientStore clients, ClientIdMetadata metadataDocuments) {
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

    /**
     * Records that a registered client completed a grant (metadata-document clients are not stored): written at most
     * once an hour per client, and bookkeeping only, so a failure to write it never fails the grant.
     */
    public void markUsed(ClientRecord client, Instant now) {
        // the record this request authenticated with is recent enough to tell "written within the hour" (no second read
        // of the store on every refresh); only an older one is read again before writing
        if (client.lastUsedAt() != null && client.lastUsedAt().plus(LAST_USED_RESOLUTION).isAfter(now)) return;
        ClientRecord c = clients.get(client.clientId());
        if (c == null || c.lastUsedAt() != null && c.lastUsedAt().plus(LAST_USED_RESOLUTION).isAfter(now)) return;
        try {
            clients.markUsed(client.clientId(), now);
        } catch (StoreException e) {
            LOG.warn("Could not record that client {} completed a grant: {}", client.clientId(), e.getMessage());
        }
    }
}
