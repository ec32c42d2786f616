package io.mcpoauth.login;

/** Picks the provider for {@code AUTH_PROVIDER}. The OpenID Connect one reads its discovery document here. */
public final class UpstreamProviders {
    private UpstreamProviders() {}

    public static UpstreamProvider create(UpstreamConfig config, UpstreamCalls calls) {
        return switch (config.provider) {
            case "google" -> new GoogleProvider(config);
            case "azure" -> new AzureProvider(config);
            case "github" -> new GitHubProvider(config);
            case "oidc" -> OidcProvider.discover(config, calls);
            default -> throw new IllegalArgumentException("not an upstream provider: " + config.provider);
        };
    }
}
