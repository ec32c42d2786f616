package io.mcpoauth.oauth;

import io.mcpoauth.store.AccessToken;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.RefreshFamily;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token revocation (RFC 7009) for an already authenticated client. A refresh token ends its whole grant (the
 * refresh-token family, durably, and every access token it produced); an access token ends just that token.
 * A token that is unknown, expired or another client's is left alone and the answer is the same (RFC 7009 §2.2:
 * 200 either way), so a client learns nothing about tokens that are not its own.
 */
public final class Revocation {
    private static final Logger LOG = LoggerFactory.getLogger(Revocation.class);

    public static final String HINT_ACCESS = "access_token";
    public static final String HINT_REFRESH = "refresh_token";

    private final OAuthServices s;

    public Revocation(OAuthServices services) {
        this.s = services;
    }

    /**
     * Revokes {@code token} if it belongs to {@code client}. {@code hint} (token_type_hint) only decides which kind is
     * looked up first; an unknown hint is ignored. Returns once a refresh-token revocation is durable.
     */
    public void revoke(ClientRecord client, String token, String hint, Instant now) {
        if (token == null || token.length() > 1000) return;
        if (HINT_ACCESS.equals(hint)) {
            if (!revokeAccessToken(client, token, now)) revokeRefreshToken(client, token, now);
        } else {
            if (!revokeRefreshToken(client, token, now)) revokeAccessToken(client, token, now);
        }
    }

    /** True when the token is a live refresh token (whoever owns it); revoked only when it is {@code client}'s. */
    private boolean revokeRefreshToken(ClientRecord client, String token, Instant now) {
        RefreshFamily f = s.refreshTokens().find(token, now);
        if (f == null) return false;
        if (!f.clientId().equals(client.clientId())) {
            LOG.debug("Revocation by {} of another client's refresh token ignored", client.clientId());
            return true;
        }
        s.lifecycle().revokeGrant(f, "client");
        LOG.info("Client {} revoked grant {}", client.clientId(), f.familyId());
        return true;
    }

    private boolean revokeAccessToken(ClientRecord client, String token, Instant now) {
        AccessToken t = s.accessTokens().find(token, now);
        if (t == null) return false;
        if (!t.clientId().equals(client.clientId())) {
            LOG.debug("Revocation by {} of another client's access token ignored", client.clientId());
            return true;
        }
        s.accessTokens().revoke(token);
        s.events().tokensRevoked("client", "access_token", t.userId(), t.clientId(), t.grantId(), 1);
        return true;
    }
}
