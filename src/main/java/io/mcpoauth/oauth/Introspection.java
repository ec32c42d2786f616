package io.mcpoauth.oauth;

import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.RefreshFamily;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token introspection (RFC 7662). Callers are either a confidential client, which sees only its own tokens, or
 * the administrator ({@code Authorization: Bearer <ADMIN_TOKEN>}, compared in constant time; disabled when
 * {@code ADMIN_TOKEN} is unset), who sees all. Public clients are refused: a client_id is no credential, and
 * RFC 7662 §2.1 requires real authorization against token scanning. Anything not active for the caller is
 * {@code {"active": false}} and nothing else.
 */
public final class Introspection {
    /** Who asked: a client (by id) or the administrator. */
    public record Caller(String clientId, boolean admin) {
        public boolean maySee(String tokenClientId) {
            return admin || clientId.equals(tokenClientId);
        }
    }

    private final OAuthServices s;

    public Introspection(OAuthServices services) {
        this.s = services;
    }

    /**
     * Authenticates the caller. Throws {@link OAuthError} {@code invalid_token} (401) for a bearer token that is not
     * the admin token, and {@link ClientAuthentication.Failure} for client credentials that do not authenticate.
     */
    public Caller authenticate(String authorization, Params form) {
        BearerToken bearer = BearerToken.parse(authorization);
        if (bearer.bearerScheme()) {
            String admin = s.settings().adminToken;
            if (admin == null || !bearer.present() || !Secrets.constantTimeEquals(bearer.token(), admin)) {
                throw new OAuthError(OAuthError.INVALID_TOKEN, admin == null
                        ? "Bearer access to introspection is disabled (ADMIN_TOKEN is not set); authenticate as a client instead."
                        : "The bearer token is not the admin token.", 401);
            }
            return new Caller(null, true);
        }
        boolean noCredentials = (authorization == null || authorization.isBlank()) && form.first("client_id") == null;
        if (noCredentials) {
            throw new ClientAuthentication.Failure(OAuthError.invalidClient("Introspection requires authentication: the client's"
                    + " credentials (HTTP Basic or client_secret in the form) or the admin bearer token."), true);
        }
        ClientRecord c = s.clientAuthentication().authenticate(authorization, form);
        if (c.isPublic()) {
            throw new ClientAuthentication.Failure(OAuthError.invalidClient("Public clients (token_endpoint_auth_method none)"
                    + " cannot use introspection: it needs a client secret or the admin token."), false);
        }
        return new Caller(c.clientId(), false);
    }

    /** The RFC 7662 §2.2 response for {@code token}; {@code hint} only decides which kind is looked up first. */
    public Map<String, Object> introspect(Caller caller, String token, String hint, Instant now) {
        if (token == null || token.length() > 1000) return inactive();
        Map<String, Object> out;
        if (Revocation.HINT_REFRESH.equals(hint)) {
            out = refreshToken(caller, token, now);
            if (out == null) out = accessToken(caller, token, now);
        } else {
            out = accessToken(caller, token, now);
            if (out == null) out = refreshToken(caller, token, now);
        }
        return out == null ? inactive() : out;
    }

    public static Map<String, Object> inactive() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("active", false);
        return out;
    }

    private Map<String, Object> accessToken(Caller caller, String token, Instant now) {
        AccessToken t = s.accessTokens().find(token, now);
        if (t == null || !s.refreshTokens().isLive(t.grantId(), now) || !caller.maySee(t.clientId())) return null;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("active", true);
        out.put("client_id", t.clientId());
        out.put("scope", Scopes.format(new java.util.TreeSet<>(t.scopes())));
        out.put("token_type", "Bearer");
        out.put("exp", t.expiresAt().getEpochSecond());
        // Access tokens live in memory only, minted with the current lifetime setting: iat is exact.
        out.put("iat", t.expiresAt().minus(s.settings().accessTokenTtl).getEpochSecond());
        out.put("sub", t.userId());
        out.put("aud", t.resource());
        out.put("iss", s.settings().issuer);
        return out;
    }

    private Map<String, Object> refreshToken(Caller caller, String token, Instant now) {
        RefreshFamily f = s.refreshTokens().find(token, now);
        if (f == null || !caller.maySee(f.clientId())) return null;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("active", true);
        out.put("client_id", f.clientId());
        out.put("scope", f.scope() == null ? "" : f.scope());
        out.put("token_type", "refresh_token");
        out.put("exp", f.expiresAt().getEpochSecond());
        out.put("sub", f.userId());
        if (f.resource() != null) out.put("aud", f.resource());
        out.put("iss", s.settings().issuer);
        return out;
    }
}
