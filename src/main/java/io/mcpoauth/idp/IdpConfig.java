package io.mcpoauth.idp;

import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.Settings;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The settings of upstream sign-in ({@code AUTH_PROVIDER=google|azure|github|oidc}), validated at start. The client
 * secret is only ever sent to the provider's token endpoint; it never appears in logs, pages or errors.
 */
public final class IdpConfig {
    /** Where every identity provider sends the browser back to after sign-in. */
    public static final String CALLBACK_PATH = "/oauth/callback";
    public final String provider;
    public final String clientId;
    final String clientSecret;
    public final String azureTenant;
    public final String oidcIssuer;
    public final List<String> extraScopes;
    public final Set<String> allowedEmails;
    public final Set<String> allowedDomains;
    public final Duration timeout;
    /** Tests only: the base URL of a fake provider serving the google, azure and github endpoints; null normally. */
    public final String testBaseUrl;
    /** {@code <PUBLIC_URL>/oauth/callback}: the redirect URI to register at the provider. */
    public final String callbackUrl;

    private IdpConfig(Settings s) {
        provider = s.authProvider;
        Settings.IdentityProvider own = Settings.identityProvider(provider);
        if (own == null) throw new IllegalArgumentException("not an upstream provider: " + provider);
        clientId = s.value(own.clientId());
        clientSecret = s.value(own.clientSecret());
        if (clientId.isEmpty()) {
            throw new ConfigException(own.clientId().name() + ": required when AUTH_PROVIDER=" + provider + " (the OAuth client id from the provider's console; see the README)");
        }
        if (clientSecret.isEmpty() && own.secretRequired()) {
            throw new ConfigException(own.clientSecret().name() + ": required when AUTH_PROVIDER=" + provider + " (the client secret from the provider's console)");
        }
        String tenant = s.value(Settings.AZURE_TENANT);
        if (!tenant.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,99}")) {
            throw new ConfigException("AZURE_TENANT=" + tenant + ": expected a tenant id (GUID), a domain such as contoso.onmicrosoft.com, or common, organizations or consumers");
        }
        azureTenant = tenant;
        String issuer = s.value(Settings.OIDC_ISSUER);
        if (provider.equals(Settings.OIDC.name())) {
            if (issuer.isEmpty()) throw new ConfigException("OIDC_ISSUER: required when AUTH_PROVIDER=oidc (the provider's issuer URL, e.g. https://accounts.example.com)");
            checkUrl("OIDC_ISSUER", issuer, true);
        }
        oidcIssuer = issuer.isEmpty() ? null : issuer;
        List<String> scopes = new ArrayList<>();
        String upstreamScopes = s.value(Settings.UPSTREAM_SCOPES);
        for (String sc : upstreamScopes.split("[\\s,]+")) {
            if (sc.isEmpty()) continue;
            if (!sc.matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]+")) throw new ConfigException("UPSTREAM_SCOPES=" + upstreamScopes + ": expected space-separated scope tokens");
            if (!scopes.contains(sc)) scopes.add(sc);
        }
        extraScopes = List.copyOf(scopes);
        String emails = s.value(Settings.ALLOWED_EMAILS);
        allowedEmails = lowerList(emails);
        for (String e : allowedEmails) {
            if (!e.matches("[^@\\s]+@[^@\\s]+")) throw new ConfigException("ALLOWED_EMAILS=" + emails + ": expected comma-separated e-mail addresses");
        }
        String domainList = s.value(Settings.ALLOWED_DOMAINS);
        Set<String> domains = new LinkedHashSet<>();
        for (String d : lowerList(domainList)) {
            String dd = d.startsWith("@") ? d.substring(1) : d;
            if (!dd.matches("[a-z0-9.-]+\\.[a-z0-9-]+")) throw new ConfigException("ALLOWED_DOMAINS=" + domainList + ": expected comma-separated domains such as example.com");
            domains.add(dd);
        }
        allowedDomains = Set.copyOf(domains);
        String t = s.value(Settings.UPSTREAM_TIMEOUT);
        long secs;
        try {
            secs = Long.parseLong(t);
        } catch (NumberFormatException e) {
            secs = -1;
        }
        if (secs < 1 || secs > 120) throw new ConfigException("UPSTREAM_TIMEOUT=" + t + ": expected whole seconds between 1 and 120");
        timeout = Duration.ofSeconds(secs);
        String test = s.value(Settings.UPSTREAM_TEST_BASE_URL);
        if (!test.isEmpty()) checkUrl("UPSTREAM_TEST_BASE_URL", test, false);
        testBaseUrl = test.isEmpty() ? null : stripSlash(test);
        callbackUrl = s.url(CALLBACK_PATH);
    }

    public static IdpConfig from(Settings s) {
        return new IdpConfig(s);
    }

    /** True when an e-mail allow-list applies (then only verified e-mail addresses can sign in). */
    public boolean restricted() {
        return !allowedEmails.isEmpty() || !allowedDomains.isEmpty();
    }

    /** Whether a verified {@code email} passes ALLOWED_EMAILS / ALLOWED_DOMAINS (either list admits). */
    public boolean admits(String email) {
        if (!restricted()) return true;
        if (email == null) return false;
        String e = email.strip().toLowerCase(Locale.ROOT);
        if (allowedEmails.contains(e)) return true;
        int at = e.lastIndexOf('@');
        return at > 0 && allowedDomains.contains(e.substring(at + 1));
    }

    private static Set<String> lowerList(String raw) {
        Set<String> out = new LinkedHashSet<>();
        for (String x : raw.split(",")) {
            if (!x.isBlank()) out.add(x.strip().toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(out);
    }

    /** https, or http only to a loopback host when {@code httpsUnlessLoopback}; no query, fragment or user info. */
    static void checkUrl(String name, String value, boolean httpsUnlessLoopback) {
        String allowed = httpsUnlessLoopback ? "an https URL (http only for localhost / 127.0.0.1) without query or fragment"
                : "an http or https URL without query or fragment";
        URI u;
        try {
            u = new URI(value);
        } catch (URISyntaxException e) {
            throw new ConfigException(name + "=" + value + ": expected " + allowed);
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        boolean ok = u.getHost() != null && u.getRawQuery() == null && u.getRawFragment() == null && u.getRawUserInfo() == null
                && (scheme.equals("https") || scheme.equals("http") && (!httpsUnlessLoopback || isLoopback(u.getHost())));
        if (!ok) throw new ConfigException(name + "=" + value + ": expected " + allowed);
    }

    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.equals("127.0.0.1") || h.equals("[::1]") || h.equals("::1");
    }

    static String stripSlash(String s) {
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return s;
    }

    @Override
    public String toString() {
        return "IdpConfig[" + provider + ", client " + clientId + ", secret <hidden>]";
    }
}
