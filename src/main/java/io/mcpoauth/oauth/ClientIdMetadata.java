package io.mcpoauth.oauth;

import io.mcpoauth.store.ClientRecord;

/**
 * Client ID Metadata Documents (MCP 2025-11-25): a {@code client_id} that is an https URL names a JSON document
 * describing the client. Implementations fetch it safely, validate it and cache it.
 */
public interface ClientIdMetadata {
    /** The client described at {@code url}, or null when it cannot be fetched or is not valid. */
    ClientRecord resolve(String url);

    /** Like {@link #resolve} but throws an {@link OAuthError} (invalid_client) that says what is wrong. */
    ClientRecord require(String url);
}
