package io.mcpoauth.core;

import java.util.Collection;

/**
 * The one place security-relevant things are reported (the audit log and the metrics, in {@code ops}). Code elsewhere
 * calls it in one line, e.g. {@code events.signIn(userId, clientId, true, null)}. Pass identifiers only (user ids,
 * client ids, grant ids, key ids): never a token, code, secret or password. Every method does nothing by default:
 * {@link #NONE} is the sink of components built without a server (unit tests, commands without an audit log).
 */
public interface Events {
    Events NONE = new Events() {};

    // ---- clients ----

    default void clientRegistered(String clientId, String clientName) {}

    /** @param by {@code client} (RFC 7592 delete) or {@code admin} */
    default void clientRemoved(String clientId, String by, int grantsRevoked) {}

    // ---- the browser flow ----

    /**
     * A sign-in attempt. {@code userId} is null when unknown (a failure for a name that has no account: the typed name
     * is not logged, it could be a password typed into the wrong field).
     *
     * @param reason on failure: {@code wrong_password}, {@code unknown_user}, {@code rate_limited}, {@code upstream_error}...
     */
    default void signIn(String userId, String clientId, boolean ok, String reason) {}

    /** The user allowed or refused the client on the consent page. */
    default void consent(String userId, String clientId, boolean given, Collection<String> scopes) {}

    /** An authorization code was issued (after sign-in and consent, given now or remembered). */
    default void authorizationApproved(String userId, String clientId) {}

    // ---- tokens ----

    /** A token response was sent: new access token (and refresh token) for a grant. */
    default void tokensIssued(String grantType, String userId, String clientId, String grantId, Collection<String> scopes) {}

    /** A token request was refused with {@code error} (metrics only: failures are counted by error code). */
    default void tokenRefused(String grantType, String error) {}

    /**
     * Tokens were revoked.
     *
     * @param by    {@code client} (RFC 7009), {@code admin}, {@code user}
     * @param kind  {@code grant} (a refresh-token family with its access tokens) or {@code access_token}
     */
    default void tokensRevoked(String by, String kind, String userId, String clientId, String grantId, int count) {}

    /**
     * A replay was detected and the grant revoked.
     *
     * @param kind {@code refresh_token} or {@code authorization_code}
     */
    default void reuseDetected(String kind, String userId, String clientId, String grantId) {}

    // ---- API keys ----

    /** A key was accepted on /mcp (logged when its last-used time is written: at most once a minute per key). */
    default void apiKeyUsed(String keyId, String userId, boolean logged) {}

    /** A well-formed key was refused (unknown, revoked, or its user is gone). */
    default void apiKeyRejected(String keyId) {}

    default void apiKeyCreated(String keyId, String userId, String name, Collection<String> scopes) {}

    default void apiKeyRevoked(String keyId, String userId) {}

    // ---- users ----

    default void userAdded(String userId) {}

    default void passwordChanged(String userId) {}

    default void userRemoved(String userId, int grantsRevoked, int apiKeysRevoked) {}

    // ---- operations ----

    default void backupTaken(String dir, int files) {}

    /**
     * A refresh of a user's upstream provider token.
     *
     * @param outcome e.g. {@code refreshed}, {@code reauthentication_required}, {@code unavailable}
     */
    default void upstreamRefresh(String outcome) {}

    /**
     * A tool call the gateway sent to an upstream MCP server (never its arguments or results).
     *
     * @param outcome {@code ok}, {@code tool_error} (the upstream's isError result), {@code error} (a JSON-RPC error),
     *                {@code unavailable} (down, slow, garbage, full), {@code cancelled} (by the client) or {@code refused} (access, unknown or denied tool)
     */
    default void gatewayToolCall(String userId, String clientId, String server, String tool, String outcome, long millis) {}
}
