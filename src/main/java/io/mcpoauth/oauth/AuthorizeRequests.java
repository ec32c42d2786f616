package io.mcpoauth.oauth;

import io.mcpoauth.config.Settings;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.ClientRecord;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates {@code /authorize} parameters in a fixed order: first the client and the
 * redirect URI (failures are pages, never redirects), then everything else (failures go back to the client).
 */
public final class AuthorizeRequests {
    public static final int MAX_STATE = 2048;
    /** RFC 6749 VSCHAR minus the characters that only ever appear in injection attempts. */
    private static final Pattern STATE = Pattern.compile("[\\x20-\\x7E&&[^\"'<>\\\\`]]+");

    private final Settings settings;
    private final ClientRegistry registry;

    public AuthorizeRequests(Settings settings, ClientRegistry registry) {
        this.settings = settings;
        this.registry = registry;
    }

    public AuthorizationRequest parse(Params q) {
        String dup = q.duplicated();
        if (dup != null) {
            throw AuthorizeRejection.page(OAuthError.invalidRequest("The parameter " + dup + " was given more than once, so this request cannot be trusted."));
        }
        ClientRecord client;
        try {
            client = registry.require(q.first("client_id"));
        } catch (OAuthError e) {
            throw AuthorizeRejection.page(e);
        }
        String presented = q.first("redirect_uri");
        if (presented != null && presented.indexOf('#') >= 0) {
            throw AuthorizeRejection.page(OAuthError.invalidRequest("The redirect_uri must not contain a fragment (#)."));
        }
        String redirectUri = RedirectUris.resolve(client.redirectUris(), presented);
        if (redirectUri == null) {
            throw AuthorizeRejection.page(OAuthError.invalidRequest(presented == null
                    ? "This application registered several redirect URIs, so the request must say which one to use (redirect_uri)."
                    : "The redirect_uri is not one this application registered; it must match exactly."));
        }
        String state = q.first("state");
        if (state != null && (state.length() > MAX_STATE || !STATE.matcher(state).matches())) {
            throw AuthorizeRejection.redirect(OAuthError.invalidRequest(state.length() > MAX_STATE
                    ? "The state parameter is longer than " + MAX_STATE + " characters."
                    : "The state parameter contains characters that are not allowed (control characters, quotes or angle brackets)."),
                    redirectUri, null);
        }
        try {
            String responseType = q.first("response_type");
            if (responseType == null) throw OAuthError.invalidRequest("The response_type parameter is missing; use response_type=code.");
            if (!responseType.equals("code")) {
                throw OAuthError.unsupportedResponseType("Only response_type=code is supported (authorization code with PKCE).");
            }
            if (!client.grantTypes().contains(ClientMetadata.AUTHORIZATION_CODE)) {
                throw OAuthError.unauthorizedClient("This client is not registered for the authorization_code grant.");
            }
            String challenge = q.first("code_challenge");
            if (challenge == null) throw OAuthError.invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256.");
            String method = q.first("code_challenge_method");
            if (method == null) throw OAuthError.invalidRequest("The code_challenge_method parameter is missing; only S256 is supported.");
            if (!method.equals(Pkce.METHOD_S256)) throw OAuthError.invalidRequest("Only code_challenge_method=S256 is supported.");
            if (!Pkce.isValidChallenge(challenge)) {
                throw OAuthError.invalidRequest("The code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~'.");
            }
            String resource = Resources.requireOneOfOurs(q.first("resource"), settings.mcpResources());
            Set<String> scopes = scopes(q.first("scope"), client);
            return new AuthorizationRequest(client, redirectUri, presented != null, state, challenge, scopes, resource);
        } catch (OAuthError e) {
            throw AuthorizeRejection.redirect(e, redirectUri, state);
        }
    }

    private Set<String> scopes(String requested, ClientRecord client) {
        Set<String> scopes = requested == null ? settings.defaultScopes : Scopes.parse(requested);
        if (scopes.isEmpty()) scopes = settings.defaultScopes;
        Scopes.requireSupported(scopes, settings.scopes, OAuthError.INVALID_SCOPE);
        if (client.scope() != null && !client.scope().isBlank()) {
            Set<String> allowed = Scopes.parse(client.scope());
            if (requested == null) {
                // No scope asked for: the defaults this client registered for, or else everything it registered.
                Set<String> narrowed = new java.util.LinkedHashSet<>(scopes);
                narrowed.retainAll(allowed);
                if (!narrowed.isEmpty()) return narrowed;
                Set<String> registered = new java.util.LinkedHashSet<>(allowed);
                registered.retainAll(settings.scopes);
                if (!registered.isEmpty()) return registered;
            }
            if (!allowed.containsAll(scopes)) {
                throw OAuthError.invalidScope("This client registered only the scopes '" + client.scope() + "'.");
            }
        }
        return scopes;
    }

    /** {@code redirectUri} with the given parameters added to its query (RFC 6749 §4.1.2), each percent-encoded. */
    public static String redirectWith(String redirectUri, Map<String, String> params) {
        StringBuilder b = new StringBuilder(redirectUri);
        char sep = redirectUri.indexOf('?') >= 0 ? '&' : '?';
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getValue() == null) continue;
            b.append(sep).append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8).replace("+", "%20"));
            sep = '&';
        }
        return b.toString();
    }

    /** The error response for a rejection that goes back to the client: error, description, state and iss. */
    public static String errorRedirect(AuthorizeRejection r, String issuer) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("error", r.error().code());
        p.put("error_description", r.error().description());
        p.put("state", r.state());
        p.put("iss", issuer);
        return redirectWith(r.redirectUri(), p);
    }
}
