package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.ClientRecord;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * Authenticates the client at the token, revocation and introspection endpoints (RFC 6749 §2.3): HTTP Basic
 * ({@code client_secret_basic}), form fields ({@code client_secret_post}) or just {@code client_id} for public
 * clients ({@code none}). The method must be the one the client registered. Kept apart from grant handling.
 */
public final class ClientAuthentication {
    private final ClientRegistry registry;

    public ClientAuthentication(ClientRegistry registry) {
        this.registry = registry;
    }

    /** An authentication failure; {@link #basicChallenge} says whether to answer with {@code WWW-Authenticate: Basic}. */
    public static final class Failure extends RuntimeException {
        private final OAuthError error;
        private final boolean basicChallenge;

        Failure(OAuthError error, boolean basicChallenge) {
            super(error.getMessage(), null, false, false);
            this.error = error;
            this.basicChallenge = basicChallenge;
        }

        public OAuthError error() {
            return error;
        }

        public boolean basicChallenge() {
            return basicChallenge;
        }
    }

    /**
     * @param authorization the Authorization header or null
     * @param form          the request's form parameters (already checked for duplicates)
     */
    public ClientRecord authenticate(String authorization, Params form) {
        String bodyId = form.first("client_id");
        String bodySecret = form.first("client_secret");
        if (authorization != null && !authorization.isBlank()) {
            String[] parts = authorization.strip().split("\\s+", 2);
            if (!parts[0].toLowerCase(Locale.ROOT).equals("basic") || parts.length < 2) {
                throw fail(OAuthError.invalidClient("Use HTTP Basic authentication (or client_secret in the form) at this endpoint."), true);
            }
            if (bodySecret != null) {
                throw fail(OAuthError.invalidRequest("Send the client secret either in the Authorization header or in the form, not both."), false);
            }
            String[] idSecret = decodeBasic(parts[1]);
            if (bodyId != null && !bodyId.equals(idSecret[0])) {
                throw fail(OAuthError.invalidRequest("The client_id in the form differs from the one in the Authorization header."), false);
            }
            return check(idSecret[0], idSecret[1], ClientMetadata.AUTH_BASIC, true);
        }
        if (bodyId == null) throw fail(OAuthError.invalidClient("The client_id parameter is missing; the client could not be identified."), false);
        if (bodySecret != null) return check(bodyId, bodySecret, ClientMetadata.AUTH_POST, false);
        return check(bodyId, null, ClientMetadata.AUTH_NONE, false);
    }

    private ClientRecord check(String clientId, String secret, String method, boolean basic) {
        ClientRecord c = registry.find(clientId);
        if (c == null) {
            throw fail(OAuthError.invalidClient("The client_id is not registered with this server. Register the client again."), basic);
        }
        String registered = c.tokenEndpointAuthMethod();
        if (!registered.equals(method)) {
            String how = switch (registered) {
                case ClientMetadata.AUTH_NONE -> "without a client secret (it is a public client)";
                case ClientMetadata.AUTH_POST -> "with client_secret in the form (client_secret_post)";
                default -> "with HTTP Basic authentication (client_secret_basic)";
            };
            throw fail(OAuthError.invalidClient("This client was registered to authenticate " + how + "."), basic);
        }
        if (secret != null && !Secrets.matches(secret, c.clientSecretHash())) {
            throw fail(OAuthError.invalidClient("The client secret is wrong."), basic);
        }
        return c;
    }

    private static String[] decodeBasic(String b64) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(b64.strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw fail(OAuthError.invalidClient("The Authorization header is not valid Base64."), true);
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) throw fail(OAuthError.invalidClient("The Authorization header must hold client_id:client_secret."), true);
        try {
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
            return new String[] {
                URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
                URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)};
        } catch (IllegalArgumentException e) {
            throw fail(OAuthError.invalidClient("The Authorization header holds a badly encoded client_id or secret."), true);
        }
    }

    private static Failure fail(OAuthError e, boolean basic) {
        return new Failure(e, basic);
    }
}
