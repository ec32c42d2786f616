package io.mcpoauth.oauth;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.store.ClientRecord;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), without HTTP: the request body
 * comes in as parsed JSON, the response body goes out as a map (never holding null). Every refusal is an
 * {@link OAuthError}: {@code invalid_redirect_uri}/{@code invalid_client_metadata} (400) for bad metadata,
 * {@code invalid_token} (401) for a missing or wrong registration access token, {@code temporarily_unavailable}
 * (503) when {@code MAX_CLIENTS} clients are stored.
 *
 * <p>Only hashes of the client secret and the registration access token are stored; both are shown once, in the
 * 201 response, which is built only after the client is durable in {@code clients.json}.
 */
public final class Registration {
    private static final Logger LOG = LoggerFactory.getLogger(Registration.class);
    /** Compared against when the client is unknown, so that unknown and known ids take the same path. */
    private static final String NO_HASH = Secrets.hash(Secrets.mint(Secrets.REGISTRATION_TOKEN));
    private static final long FULL_WARNING_INTERVAL_MS = 60_000;

    private final OAuthServices s;
    private final AtomicLong lastFullWarning = new AtomicLong();

    public Registration(OAuthServices services) {
        this.s = services;
    }

    /** The registration URL of a client (RFC 7592 {@code registration_client_uri}). */
    public String clientUri(String clientId) {
        return s.settings().url(Metadata.REGISTER + "/" + clientId);
    }

    /**
     * Validates and stores a new client; returns the RFC 7591 §3.2.1 response. Durable before it returns.
     * Fields the client may not choose ({@code client_id}, {@code client_secret}...) and unknown fields are ignored.
     */
    public Map<String, Object> register(JsonNode body, Instant now) {
        ClientMetadata md = ClientMetadata.fromRequest(body, s.settings().scopes);
        String clientId = Secrets.mint(Secrets.CLIENT_ID);
        String secret = md.isConfidential() ? Secrets.mint(Secrets.CLIENT_SECRET) : null;
        String registrationToken = Secrets.mint(Secrets.REGISTRATION_TOKEN);
        ClientRecord client = new ClientRecord(clientId, md.clientName(), md.redirectUris(), grantTypes(md.grantTypes()),
                md.responseTypes(), md.tokenEndpointAuthMethod(), md.scope(), md.clientUri(), md.softwareId(), md.softwareVersion(),
                now.truncatedTo(java.time.temporal.ChronoUnit.MICROS), null, secret == null ? null : Secrets.hash(secret),
                Secrets.hash(registrationToken), md.applicationType());
        if (!s.lifecycle().addClient(client, s.settings().maxClients)) {
            warnFull();
            throw OAuthError.temporarilyUnavailable("This server already stores its maximum of " + s.settings().maxClients
                    + " registered clients (the MAX_CLIENTS setting), so no new client can register. The administrator can raise"
                    + " MAX_CLIENTS or remove unused clients; try again later.");
        }
        LOG.info("Registered client {} ({}, {})", clientId, printable(md.clientName()), md.tokenEndpointAuthMethod());
        s.events().clientRegistered(clientId, md.clientName());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client_id", clientId);
        out.put("client_id_issued_at", client.createdAt().getEpochSecond());
        if (secret != null) {
            out.put("client_secret", secret);
            out.put("client_secret_expires_at", 0);
        }
        describe(client, out);
        out.put("registration_access_token", registrationToken);
        out.put("registration_client_uri", clientUri(clientId));
        return out;
    }

    /** RFC 7592 §2.1: the client's current registration (no secret, no registration access token: only hashes exist). */
    public Map<String, Object> read(String clientId, String authorization) {
        return response(authorize(clientId, authorization));
    }

    /**
     * RFC 7592 §2.2: replaces the client's metadata with a freshly validated request. The body's {@code client_id}
     * must be the client's; a {@code client_secret}, when sent, must be its secret. The id, secret, registration
     * token and creation time are kept. A client cannot switch between public and confidential: it registers anew.
     */
    public Map<String, Object> update(String clientId, String authorization, JsonNode body) {
        ClientRecord current = authorize(clientId, authorization);
        if (body == null || !body.isObject()) throw OAuthError.invalidClientMetadata("The update request must be a JSON object.");
        JsonNode id = body.get("client_id");
        if (id == null || !id.isTextual() || !id.textValue().equals(current.clientId())) {
            throw OAuthError.invalidClientMetadata("The update request must contain this client's client_id (RFC 7592 section 2.2).");
        }
        JsonNode secret = body.get("client_secret");
        if (secret != null && !secret.isNull() && (!secret.isTextual() || !Secrets.matches(secret.textValue(), current.clientSecretHash()))) {
            throw OAuthError.invalidClientMetadata("The client_secret in the update request is not this client's secret.");
        }
        ClientMetadata md = ClientMetadata.fromRequest(body, s.settings().scopes);
        if (md.isConfidential() != !current.isPublic()) {
            throw OAuthError.invalidClientMetadata(current.isPublic()
                    ? "This is a public client (token_endpoint_auth_method none) and has no secret; register a new client to use one."
                    : "This client has a secret; it cannot become a public client (none). Register a new client instead.");
        }
        ClientRecord updated = new ClientRecord(current.clientId(), md.clientName(), md.redirectUris(), grantTypes(md.grantTypes()),
                md.responseTypes(), md.tokenEndpointAuthMethod(), md.scope(), md.clientUri(), md.softwareId(), md.softwareVersion(),
                current.createdAt(), current.lastUsedAt(), current.clientSecretHash(), current.registrationTokenHash(), md.applicationType());
        if (!s.clients().replace(updated)) throw invalidToken(); // deleted meanwhile: do not bring it back
        LOG.info("Updated client {} ({})", clientId, printable(md.clientName()));
        return response(updated);
    }

    /**
     * RFC 7592 §2.3: removes the client (durably), then every grant it holds (refresh-token families, durably) and
     * their access tokens. A crash in between leaves grants of a client that no longer exists: the token endpoint
     * refuses them and the next start drops them.
     */
    public void delete(String clientId, String authorization) {
        ClientRecord c = authorize(clientId, authorization);
        GrantLifecycle.ClientRemoval r = s.lifecycle().removeClient(c.clientId(), "client");
        LOG.info("Deleted client {} and revoked {} of its grants", c.clientId(), r.grants());
    }

    /**
     * The client, when {@code authorization} is {@code Bearer <its registration access token>}. A missing or wrong
     * token and an unknown client get the same 401 {@code invalid_token}, so client ids cannot be probed.
     */
    public ClientRecord authorize(String clientId, String authorization) {
        String token = BearerToken.parse(authorization).token();
        if (token == null) {
            throw new OAuthError(OAuthError.INVALID_TOKEN, "Send the registration access token from the registration response"
                    + " as 'Authorization: Bearer <token>'.", 401);
        }
        ClientRecord c = s.clients().get(clientId);
        String hash = c == null || c.registrationTokenHash() == null ? NO_HASH : c.registrationTokenHash();
        boolean ok = Secrets.matches(token, hash);
        if (!ok || c == null || c.registrationTokenHash() == null) throw invalidToken();
        return c;
    }

    private static OAuthError invalidToken() {
        return new OAuthError(OAuthError.INVALID_TOKEN, "The registration access token is not valid for this client"
                + " (or the client no longer exists).", 401);
    }

    private Map<String, Object> response(ClientRecord c) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client_id", c.clientId());
        if (c.createdAt() != null) out.put("client_id_issued_at", c.createdAt().getEpochSecond());
        if (!c.isPublic()) out.put("client_secret_expires_at", 0);
        describe(c, out);
        out.put("registration_client_uri", clientUri(c.clientId()));
        return out;
    }

    /** The registered metadata; {@code scope} is what the client gets when it asks for none (the default scopes). */
    private void describe(ClientRecord c, Map<String, Object> out) {
        if (c.clientName() != null) out.put("client_name", c.clientName());
        out.put("redirect_uris", c.redirectUris());
        out.put("grant_types", c.grantTypes());
        out.put("response_types", c.responseTypes());
        out.put("token_endpoint_auth_method", c.tokenEndpointAuthMethod());
        out.put("scope", c.scope() != null ? c.scope() : Scopes.format(s.settings().defaultScopes));
        if (c.clientUri() != null) out.put("client_uri", c.clientUri());
        if (c.softwareId() != null) out.put("software_id", c.softwareId());
        if (c.applicationType() != null) out.put("application_type", c.applicationType());
        if (c.softwareVersion() != null) out.put("software_version", c.softwareVersion());
    }

    /**
     * The grant types stored for a client: what it asked for plus {@code refresh_token}. Surviving a restart
     * depends on refresh tokens, and a client that does not use them simply ignores them (RFC 7591 §3.2.1 lets
     * the server replace requested values).
     */
    static List<String> grantTypes(List<String> requested) {
        Set<String> out = new LinkedHashSet<>(requested);
        out.add(ClientMetadata.REFRESH_TOKEN);
        return List.copyOf(out);
    }

    private void warnFull() {
        long now = System.currentTimeMillis();
        long last = lastFullWarning.get();
        if (now - last >= FULL_WARNING_INTERVAL_MS && lastFullWarning.compareAndSet(last, now)) {
            LOG.warn("Client registration refused: {} clients are stored, the MAX_CLIENTS limit. Raise MAX_CLIENTS, or lower"
                    + " OAUTH_UNUSED_CLIENT_TTL so clients that never completed a sign-in are removed sooner.", s.clients().count());
        }
    }

    /** A client-chosen text made safe for a log line. */
    static String printable(String s) {
        if (s == null) return "no name";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7F || ClientMetadata.isUnsafe(c) ? '?' : c);
        }
        return b.toString();
    }
}
