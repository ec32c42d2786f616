package io.mcpoauth.store;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * An authorization code, under the SHA-256 of the code, from its issue until well after it was used: the record
 * outlives the code so that a replay can revoke what the first use issued.
 *
 * @param expiresAt when the code itself stops being redeemable
 * @param state     {@link #ISSUED}, {@link #REDEEMING} (taken, tokens being issued), {@link #REDEEMED} (it produced
 *                  {@code grantId}), or {@link #REPLAYED} (presented again while being redeemed)
 */
public record CodeRecord(String clientId, String userId, String redirectUri, boolean redirectUriGiven, String codeChallenge,
                         Set<String> scopes, String resource, Instant expiresAt, String state, String grantId)
        implements ShortLivedStore.Owned {
    public static final String ISSUED = "issued";
    public static final String REDEEMING = "redeeming";
    public static final String REDEEMED = "redeemed";
    public static final String REPLAYED = "replayed";

    public CodeRecord {
        scopes = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(scopes)); // keeps the order asked for
    }

    public CodeRecord with(String newState, String newGrantId) {
        return new CodeRecord(clientId, userId, redirectUri, redirectUriGiven, codeChallenge, scopes, resource, expiresAt, newState, newGrantId);
    }
}
