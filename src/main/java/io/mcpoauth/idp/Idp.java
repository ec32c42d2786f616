package io.mcpoauth.idp;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.TokenCipher;
import java.time.Clock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything upstream sign-in needs, built at start when {@code AUTH_PROVIDER} is not {@code local}: settings
 * checked, {@code upstream_tokens.json} opened, the encryption key found and checked against the stored ciphertexts,
 * the provider set up (the OpenID one reads its discovery document). Any problem stops the start with one clear message.
 */
public final class Idp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Idp.class);

    public final IdpConfig config;
    public final IdpTokenStore store;
    public final IdpTokenService tokens;
    public final ScribeSignIn signIn;
    public final IdpClient client;
    private final IdpCalls calls;

    private Idp(IdpConfig config, IdpTokenStore store, IdpTokenService tokens, ScribeSignIn signIn, IdpClient client,
                     IdpCalls calls) {
        this.config = config;
        this.store = store;
        this.tokens = tokens;
        this.signIn = signIn;
        this.client = client;
        this.calls = calls;
    }

    /**
     * Null with {@code AUTH_PROVIDER=local}.
     *
     * @param cipher     opens the key that encrypts the stored provider tokens (checked against those stored)
     * @param accountUrl the page where users see and renew their sign-in (named in "sign in again" messages)
     */
    public static Idp open(Settings settings, Clock clock, Stores stores, Supplier<TokenCipher> cipher, String accountUrl) {
        if (settings.authProvider.equals("local")) return null;
        IdpConfig config = IdpConfig.from(settings);
        IdpTokenStore stored = stores.idpTokens();
        IdpCalls calls = new IdpCalls(config.timeout);
        try {
            IdpProvider provider = IdpProviders.create(config, calls);
            TokenCipher key = cipher.get();
            IdpClient client = new IdpClient(config, provider, calls);
            IdpTokenService tokens = new IdpTokenService(client, stored, key, clock, accountUrl);
            ScribeSignIn signIn = new ScribeSignIn(client, stores.users(), tokens, stores.idpStates());
            if (config.testBaseUrl != null) {
                LOG.warn("UPSTREAM_TEST_BASE_URL is set: {} sign-in goes to {} instead of the real provider (tests only)", provider.displayName(), config.testBaseUrl);
            }
            if (!config.restricted()) {
                LOG.warn("AUTH_PROVIDER={} without ALLOWED_EMAILS or ALLOWED_DOMAINS: anyone with a {} account can sign in", config.provider, provider.displayName());
            }
            LOG.info("Users sign in with {}; register {} as the redirect URI there; {} stored upstream tokens (key id {})", provider.displayName(),
                    config.callbackUrl, stored.count(), key.keyId());
            return new Idp(config, stored, tokens, signIn, client, calls);
        } catch (RuntimeException e) {
            calls.close();
            throw e;
        }
    }

    /** What the {@code upstream_profile} tool reads. */
    public ProfileEndpoint profileEndpoint() {
        IdpProvider p = client.provider;
        return new ProfileEndpoint(p.id(), p.displayName(), p.userinfoUrl(), p.userinfoAccept(), config.timeout);
    }

    @Override
    public void close() {
        calls.close();
    }
}
