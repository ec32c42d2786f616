package io.mcpoauth.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.scribejava.core.pkce.PKCE;
import com.github.scribejava.core.pkce.PKCEService;
import io.mcpoauth.core.ExpiringMap;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.PageError;
import io.mcpoauth.http.Params;
import io.mcpoauth.store.IdpStateRecord;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.StoreException;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sign-in through an upstream provider with ScribeJava (the proxy pattern): our consent comes first (see
 * {@link AuthorizationFlow}), then the browser goes to the provider with a random, single-use {@code state} that
 * expires after 10 minutes and is bound to the browser session, PKCE where the provider takes it, a nonce for
 * OpenID providers, and never the client's {@code resource}. The callback exchanges the code with our client
 * secret (which never leaves the server), identifies the user by the provider's subject, applies the e-mail
 * allow-lists, creates or updates the user and stores the upstream tokens encrypted.
 */
public final class ScribeSignIn implements IdpSignIn {
    private static final Logger LOG = LoggerFactory.getLogger(ScribeSignIn.class);
    public static final Duration STATE_TTL = Duration.ofMinutes(10);

    private final IdpConfig config;
    private final IdpClient client;
    private final IdpProvider provider;
    private final UserStore users;
    private final IdpTokenService tokens;
    /** Sign-ins in flight at the provider, keyed by the hash of their state. */
    private final ShortLivedStore<IdpStateRecord> states;

    public ScribeSignIn(IdpClient client, UserStore users, IdpTokenService tokens, ShortLivedStore<IdpStateRecord> states) {
        this.states = states;
        this.config = client.config;
        this.client = client;
        this.provider = client.provider;
        this.users = users;
        this.tokens = tokens;
    }

    @Override
    public String displayName() {
        return provider.displayName();
    }

    @Override
    public String begin(String pendingId, String sessionId, Instant now) {
        String state = Secrets.randomString(32);
        PKCE pkce = provider.pkce() ? PKCEService.defaultInstance().generatePKCE() : null;
        String nonce = provider.openId() ? Secrets.randomString(24) : null;
        IdpStateRecord s = new IdpStateRecord(pendingId, Secrets.hash(sessionId), pkce == null ? null : pkce.getCodeVerifier(), nonce);
        if (!states.put(Secrets.hash(state), s, now.plus(STATE_TTL), now, ExpiringMap.Policy.EVICTABLE)) {
            throw new PageError(503, "Server busy", "The server is handling too many sign-ins right now. Try again in a minute.");
        }
        return client.authorizationUrl(state, pkce, nonce);
    }

    @Override
    public Completed finish(Params q, String sessionId, Instant now) {
        String state = q.first("state");
        if (state == null || state.isEmpty() || state.length() > 512 || q.duplicated() != null) {
            throw new Failure(null, null, 400, "The answer from " + displayName() + " has no valid state. Go back to the application and connect again.");
        }
        IdpStateRecord s = states.take(Secrets.hash(state), now);
        if (s == null) {
            throw new Failure(null, null, 400, "This sign-in answer is unknown, expired or was already used. Go back to the application and connect again.");
        }
        if (!Secrets.constantTimeEquals(s.sessionHash(), Secrets.hash(sessionId))) {
            throw new Failure(null, null, 400, "This sign-in did not start in this browser. Go back to the application and connect again.");
        }
        String pid = s.pendingId();
        String error = q.first("error");
        if (error != null) throw providerError(pid, error);
        String iss = q.first("iss");
        String expectedIss = provider.expectedIssuer();
        boolean issRequired = provider instanceof OidcProvider o && o.sendsIssParameter();
        if (expectedIss != null && (iss != null && !iss.equals(expectedIss) || iss == null && issRequired)) {
            throw new Failure(pid, null, 400, "The sign-in answer did not come from " + displayName() + " (issuer mismatch). Go back to the application and connect again.");
        }
        String code = q.first("code");
        if (code == null || code.isEmpty() || code.length() > 4096) {
            throw new Failure(pid, null, 400, "The answer from " + displayName() + " has no authorization code. Go back to the application and connect again.");
        }

        TokenSet t;
        try {
            t = client.exchange(code, s.verifier());
        } catch (IdpClient.Error e) {
            throw exchangeFailure(pid, e);
        }

        Identity id;
        try {
            JsonNode claims = null;
            if (provider.openId() && t.idToken() != null) {
                claims = IdTokenClaims.parse(t.idToken());
                IdTokenClaims.check(claims, config.clientId, provider.expectedIssuer(), s.nonce(), now);
            }
            id = provider.identify(t, claims, client.calls, now);
            String claimedSub = claims == null ? null : IdTokenClaims.text(claims, "sub");
            if (claimedSub != null && !claimedSub.equals(id.subject())) {
                throw new Identity.Refused(displayName() + "'s user information and id_token name different users.");
            }
        } catch (Identity.Refused r) {
            LOG.warn("Upstream sign-in refused: {}", r.getMessage());
            throw new Failure(pid, null, 502, r.getMessage() + " No account was created.");
        } catch (IdpCalls.Failed f) {
            LOG.warn("Upstream sign-in failed reading the user information: {}", f.getMessage());
            throw new Failure(pid, null, 502, "Could not read who you are from " + displayName() + " (" + (f.status > 0 ? "HTTP " + f.status : "no answer")
                    + "). No account was created. Try again in a moment.");
        }

        if (config.restricted()) {
            if (id.email() == null || !id.emailVerified()) {
                LOG.info("Upstream sign-in of {}:{} refused: no verified e-mail address", provider.id(), id.subject());
                throw new Failure(pid, OAuthError.ACCESS_DENIED, 403, "Your " + displayName()
                        + " account has no verified e-mail address, and this server admits only listed addresses.");
            }
            if (!config.admits(id.email())) {
                LOG.info("Upstream sign-in of {}:{} refused: e-mail not on ALLOWED_EMAILS / ALLOWED_DOMAINS", provider.id(), id.subject());
                throw new Failure(pid, OAuthError.ACCESS_DENIED, 403, "The account " + id.email() + " is not allowed to use this server.");
            }
        }

        String userId = provider.id() + ":" + id.subject();
        UserRecord user;
        try {
            user = upsert(userId, id, now);
            tokens.save(userId, t, now);
        } catch (StoreException e) {
            LOG.error("Could not store the upstream sign-in of {}: {}", userId, e.getMessage());
            throw new Failure(pid, OAuthError.TEMPORARILY_UNAVAILABLE, 503, "The server could not save your sign-in. Try again shortly.");
        }
        LOG.info("Signed in {} through {}", userId, displayName());
        return new Completed(pid, user);
    }

    private UserRecord upsert(String userId, Identity id, Instant now) {
        UserRecord old = users.get(userId);
        UserRecord u = new UserRecord(userId, id.username(), provider.id(), id.subject(), id.email(), id.email() == null ? null : id.emailVerified(),
                id.name(), null, old == null ? now : old.createdAt(), old == null ? null : old.lastLoginAt());
        if (!u.equals(old)) users.put(u);
        return u;
    }

    /** The provider's {@code error} on the callback, for the client: access_denied stays access_denied. */
    private Failure providerError(String pid, String error) {
        String code = error.matches("[a-z_]{1,64}") ? error : "unknown";
        return switch (code) {
            case "access_denied", "interaction_required", "login_required", "consent_required", "account_selection_required" ->
                    new Failure(pid, OAuthError.ACCESS_DENIED, 403, "The sign-in at " + displayName() + " was not allowed.");
            case "temporarily_unavailable", "server_error" ->
                    new Failure(pid, OAuthError.TEMPORARILY_UNAVAILABLE, 503, displayName() + " is unavailable right now. Try again shortly.");
            default -> {
                LOG.error("{} refused the sign-in request with {}: check the client registration and UPSTREAM_SCOPES", displayName(), code);
                yield new Failure(pid, OAuthError.SERVER_ERROR, 502, displayName() + " refused the sign-in request (" + code + ").");
            }
        };
    }

    private Failure exchangeFailure(String pid, IdpClient.Error e) {
        return switch (e.kind) {
            case UNAVAILABLE -> {
                LOG.warn("Upstream code exchange failed: {}", e.getMessage());
                yield new Failure(pid, OAuthError.TEMPORARILY_UNAVAILABLE, 503, displayName() + " did not complete the sign-in in time. Try again shortly.");
            }
            case INVALID_GRANT -> new Failure(pid, null, 400, "The sign-in at " + displayName()
                    + " expired or was already used. Go back to the application and connect again.");
            case REFUSED -> {
                LOG.error("{} refused the code exchange ({}): check {}_CLIENT_ID, the client secret and the registered callback {}",
                        displayName(), e.code, provider.id().toUpperCase(java.util.Locale.ROOT), config.callbackUrl);
                yield new Failure(pid, OAuthError.SERVER_ERROR, 502, displayName() + " refused this server's sign-in request ("
                        + (e.code == null ? "rejected" : e.code) + ").");
            }
        };
    }

    public int sweep(Instant now) {
        return states.sweep(now);
    }
}
