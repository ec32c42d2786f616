package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/** A user's standing consent for one client and the scopes they approved, kept in {@code consents.json}. */
public record ConsentRecord(String userId, String clientId, List<String> scopes, Instant grantedAt) {
    public ConsentRecord {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }
}
