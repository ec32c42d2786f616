package io.mcpoauth.ops;

import io.mcpoauth.core.Events;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The one place security-relevant things are reported: each method writes the audit line and counts the metric.
 * Code elsewhere calls it in one line, e.g. {@code events.signIn(userId, clientId, true, null)}. Pass identifiers
 * only (user ids, client ids, grant ids, key ids): never a token, code, secret or password.
 *
 * <p>The caller's address is taken from the request being handled on this thread ({@link OpsFilter} records it),
 * so callers never pass it. {@link #NONE} does nothing (unit tests, components built without a server).
 */
public final class AuditEvents implements Events {

    /** Outcome values of audit lines. */
    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";

    private final AuditLog audit;
    private final Metrics metrics;

    public AuditEvents(AuditLog audit, Metrics metrics) {
        this.audit = audit;
        this.metrics = metrics;
    }

    public Metrics metrics() {
        return metrics;
    }

    public AuditLog audit() {
        return audit;
    }

    // ---- clients ----

    @Override
    public void clientRegistered(String clientId, String clientName) {
        metrics.registrations.inc();
        write("client_registered", SUCCESS, null, clientId, fields("client_name", shorten(clientName)));
    }

    /** @param by {@code client} (RFC 7592 delete) or {@code admin} */
    @Override
    public void clientRemoved(String clientId, String by, int grantsRevoked) {
        metrics.clientsRemoved.inc(Metrics.clean(by));
        write("client_removed", SUCCESS, null, clientId, fields("by", by, "grants_revoked", grantsRevoked));
    }

    // ---- the browser flow ----

    /**
     * A sign-in attempt. {@code userId} is null when unknown (a failure for a name that has no account: the typed name
     * is not logged, it could be a password typed into the wrong field).
     *
     * @param reason on failure: {@code wrong_password}, {@code unknown_user}, {@code rate_limited}, {@code upstream_error}...
     */
    @Override
    public void signIn(String userId, String clientId, boolean ok, String reason) {
        metrics.signIns.inc(ok ? "success" : "failure");
        write("sign_in", ok ? SUCCESS : FAILURE, userId, clientId, fields("reason", ok ? null : reason));
    }

    /** The user allowed or refused the client on the consent page. */
    @Override
    public void consent(String userId, String clientId, boolean given, Collection<String> scopes) {
        if (!given) metrics.authorizations.inc("denied");
        write(given ? "consent_given" : "consent_refused", given ? SUCCESS : FAILURE, userId, clientId,
                fields("scope", scopes == null ? null : String.join(" ", new TreeSet<>(scopes))));
    }

    /** An authorization code was issued (after sign-in and consent, given now or remembered). */
    @Override
    public void authorizationApproved(String userId, String clientId) {
        metrics.authorizations.inc("approved");
    }

    // ---- tokens ----

    /** A token response was sent: new access token (and refresh token) for a grant. */
    @Override
    public void tokensIssued(String grantType, String userId, String clientId, String grantId, Collection<String> scopes) {
        metrics.grants.inc(Metrics.clean(grantType));
        if (!audit.enabled()) return; // on every token response: skip building a line that goes nowhere
        write("tokens_issued", SUCCESS, userId, clientId, fields("grant_type", grantType, "grant_id", grantId,
                "scope", scopes == null ? null : String.join(" ", new TreeSet<>(scopes))));
    }

    /** A token request was refused with {@code error} (metrics only: failures are counted by error code). */
    @Override
    public void tokenRefused(String grantType, String error) {
        String gt = "authorization_code".equals(grantType) || "refresh_token".equals(grantType) ? grantType : grantType == null ? "none" : "other";
        metrics.tokenFailures.inc(gt, Metrics.clean(error));
    }

    /**
     * Tokens were revoked.
     *
     * @param by    {@code client} (RFC 7009), {@code admin}, {@code user}
     * @param kind  {@code grant} (a refresh-token family with its access tokens) or {@code access_token}
     */
    @Override
    public void tokensRevoked(String by, String kind, String userId, String clientId, String grantId, int count) {
        metrics.revocations.add(count, Metrics.clean(by));
        write("tokens_revoked", SUCCESS, userId, clientId, fields("by", by, "kind", kind, "grant_id", grantId, "count", count));
    }

    /**
     * A replay was detected and the grant revoked.
     *
     * @param kind {@code refresh_token} or {@code authorization_code}
     */
    @Override
    public void reuseDetected(String kind, String userId, String clientId, String grantId) {
        metrics.reuse.inc(Metrics.clean(kind));
        write("reuse_detected", FAILURE, userId, clientId, fields("kind", kind, "grant_id", grantId));
    }

    // ---- API keys ----

    /** A key was accepted on /mcp (logged when its last-used time is written: at most once a minute per key). */
    @Override
    public void apiKeyUsed(String keyId, String userId, boolean logged) {
        metrics.apiKeyAuth.inc("accepted");
        if (logged) write("api_key_used", SUCCESS, userId, null, fields("key_id", keyId));
    }

    /** A well-formed key was refused (unknown, revoked, or its user is gone). */
    @Override
    public void apiKeyRejected(String keyId) {
        metrics.apiKeyAuth.inc("rejected");
        write("api_key_used", FAILURE, null, null, fields("key_id", keyId, "reason", "unknown_or_revoked"));
    }

    @Override
    public void apiKeyCreated(String keyId, String userId, String name, Collection<String> scopes) {
        write("api_key_created", SUCCESS, userId, null, fields("key_id", keyId, "name", shorten(name), "scope",
                scopes == null ? null : String.join(" ", scopes)));
    }

    @Override
    public void apiKeyRevoked(String keyId, String userId) {
        write("api_key_revoked", SUCCESS, userId, null, fields("key_id", keyId));
    }

    // ---- users ----

    @Override
    public void userAdded(String userId) {
        write("user_added", SUCCESS, userId, null, null);
    }

    @Override
    public void passwordChanged(String userId) {
        write("password_changed", SUCCESS, userId, null, null);
    }

    @Override
    public void userRemoved(String userId, int grantsRevoked, int apiKeysRevoked) {
        write("user_removed", SUCCESS, userId, null, fields("grants_revoked", grantsRevoked, "api_keys_revoked", apiKeysRevoked));
    }

    // ---- operations ----

    @Override
    public void backupTaken(String dir, int files) {
        write("store_backup", SUCCESS, null, null, fields("dir", dir, "files", files));
    }

    /**
     * A refresh of a user's upstream provider token.
     *
     * @param outcome e.g. {@code refreshed}, {@code reauthentication_required}, {@code unavailable}
     */
    @Override
    public void upstreamRefresh(String outcome) {
        metrics.upstreamRefresh.inc(Metrics.clean(outcome));
    }

    @Override
    public void gatewayToolCall(String userId, String clientId, String server, String tool, String outcome, long millis) {
        write("gateway_tool_call", "ok".equals(outcome) ? SUCCESS : FAILURE, userId, clientId,
                fields("server", server, "tool", shorten(tool), "result", outcome, "duration_ms", millis));
    }

    // ---- helpers ----

    private void write(String event, String outcome, String user, String clientId, Map<String, Object> fields) {
        audit.write(event, outcome, user, clientId, OpsFilter.currentIp(), fields);
    }

    private static Map<String, Object> fields(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static String shorten(String s) {
        if (s == null) return null;
        return s.length() <= 100 ? s : s.substring(0, 100) + "…";
    }
}
