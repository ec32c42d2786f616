package io.mcpoauth.idp;

/** Picks the provider for {@code AUTH_PROVIDER}. The OpenID Connect one reads its discovery document here. */
public final class IdpProviders {
    private IdpProviders() {}

    public static IdpProvider create(IdpConfig config, IdpCalls calls) {
        return switch (config.provider) {
            case "google" -> new GoogleProvider(config);
            case "azure" -> new AzureProvider(config);
            case "github" -> new GitHubProvider(config);
            case "oidc" -> OidcProvider.discover(config, calls);
            default -> throw new IllegalArgumentException("not an upstream provider: " + config.provider);
        };
    }
}
