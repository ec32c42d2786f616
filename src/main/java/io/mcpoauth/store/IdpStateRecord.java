package io.mcpoauth.store;

/**
 * One sign-in in flight at an identity provider, under the SHA-256 of its {@code state}: the pending authorization it
 * continues, the browser session that started it (hashed), and the PKCE verifier and OpenID nonce to check the answer.
 */
public record IdpStateRecord(String pendingId, String sessionHash, String verifier, String nonce) implements ShortLivedStore.Owned {
    @Override
    public String userId() {
        return null;
    }

    @Override
    public String clientId() {
        return null;
    }

    @Override
    public String toString() {
        return "IdpStateRecord[" + pendingId + "]";
    }
}
