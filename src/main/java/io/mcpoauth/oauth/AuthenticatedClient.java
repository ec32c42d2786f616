package io.mcpoauth.oauth;

import io.mcpoauth.store.ClientRecord;

/** The client that authenticated at the token endpoint ({@link ClientAuthentication}), before any grant is looked at. */
public record AuthenticatedClient(ClientRecord record) {
    public String clientId() {
        return record.clientId();
    }

    /** Whether the client registered {@code grantType} (its {@code grant_types}). */
    public boolean registeredFor(String grantType) {
        return record.grantTypes().contains(grantType);
    }
}
