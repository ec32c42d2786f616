package io.mcpoauth.login;

import io.mcpoauth.config.Settings;
import io.mcpoauth.mcp.UpstreamProfileTool;
import io.mcpoauth.store.EncryptionKeys;
import io.mcpoauth.store.Store;
import io.mcpoauth.store.TokenCipher;
import io.mcpoauth.store.UpstreamTokens;
import io.mcpoauth.store.Users;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything upstream sign-in needs, built at start when {@code AUTH_PROVIDER} is not {@code local}: settings
 * checked, {@code upstream_tokens.json} opened, the encryption key found and checked against the stored ciphertexts,
 * the provider set up (the OpenID one reads its discovery document). Any problem stops the start with one clear message.
 */
public final class Upstream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Upstream.class);

    public final UpstreamConfig config;
    public final UpstreamTokens store;
    public final UpstreamTokenService tokens;
    public final ScribeUpstream signIn;
    public final UpstreamClient client;
    private final UpstreamCalls calls;

    private Upstream(UpstreamConfig config, UpstreamTokens store, UpstreamTokenService tokens, ScribeUpstream signIn, UpstreamClient client,
                     UpstreamCalls calls) {
        this.config = config;
        this.store = store;
        this.tokens = tokens;
        this.signIn = signIn;
        this.client = client;
        this.calls = calls;
    }

    /** Null with {@code AUTH_PROVIDER=local}. */
    public static Upstream open(Settings settings, Clock clock, Store store, Users users) {
        if (settings.authProvider.equals("local")) return null;
        UpstreamConfig config = UpstreamConfig.from(settings);
        UpstreamTokens stored = new UpstreamTokens(store);
        UpstreamCalls calls = new UpstreamCalls(config.timeout);
        try {
            UpstreamProvider provider = UpstreamProviders.create(config, calls);
            TokenCipher cipher = EncryptionKeys.open(settings.raw("ENCRYPTION_KEY"), store.dir(), stored);
            UpstreamClient client = new UpstreamClient(config, provider, calls);
            UpstreamTokenService tokens = new UpstreamTokenService(client, stored, cipher, clock, settings.url(AccountEndpoints.PATH));
            ScribeUpstream signIn = new ScribeUpstream(client, users, tokens);
            if (config.testBaseUrl != null) {
                LOG.warn("UPSTREAM_TEST_BASE_URL is set: {} sign-in goes to {} instead of the real provider (tests only)", provider.displayName(), config.testBaseUrl);
            }
            if (!config.restricted()) {
                LOG.warn("AUTH_PROVIDER={} without ALLOWED_EMAILS or ALLOWED_DOMAINS: anyone with a {} account can sign in", config.provider, provider.displayName());
            }
            LOG.info("Users sign in with {}; register {} as the redirect URI there; {} stored upstream tokens (key id {})", provider.displayName(),
                    config.callbackUrl, stored.size(), cipher.keyId());
            return new Upstream(config, stored, tokens, signIn, client, calls);
        } catch (RuntimeException e) {
            calls.close();
            throw e;
        }
    }

    /** What the {@code upstream_profile} tool reads. */
    public UpstreamProfileTool.Endpoint profileEndpoint() {
        UpstreamProvider p = client.provider;
        return new UpstreamProfileTool.Endpoint(p.id(), p.displayName(), p.userinfoUrl(), p.userinfoAccept(), config.timeout);
    }

    @Override
    public void close() {
        calls.close();
    }
}
