package io.mcpoauth;

import com.fasterxml.jackson.databind.JsonNode;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.login.LocalAccounts;
import io.mcpoauth.login.PasswordHasher;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plays an MCP client and its user's browser against a {@link TestServer} over real HTTP: registration, the
 * authorize/login/consent pages (with a cookie jar), the token endpoint.
 */
public final class OAuthClientSim {
    public static final String REDIRECT = "http://127.0.0.1:9999/callback";
    private static final Pattern INPUT = Pattern.compile("<input[^>]*type=\"hidden\"[^>]*>");
    private static final Pattern NAME = Pattern.compile("name=\"([^\"]*)\"");
    private static final Pattern VALUE = Pattern.compile("value=\"([^\"]*)\"");

    public final TestServer server;
    public String clientId;
    public String clientSecret;
    public String authMethod = "none";
    public String redirectUri = REDIRECT;
    public String verifier;
    public String state;
    /** The browser's session cookie ("name=value"), or null. */
    public String cookie;
    public int loginPages;
    public int consentPages;
    /** The HTML of the last consent page shown. */
    public String lastConsentPage;

    public OAuthClientSim(TestServer server) {
        this.server = server;
    }

    /** Creates a local user with a fast hash (its first sign-in upgrades it to the full iteration count). */
    public static void addUser(TestServer s, String name, String password) {
        new LocalAccounts(s.server.users, new PasswordHasher(1_000)).add(name, password.toCharArray(), s.server.clock.instant());
    }

    /** Registers through POST /register; returns the response body. */
    public JsonNode register(String authMethod, String... redirectUris) {
        StringBuilder uris = new StringBuilder();
        for (String u : redirectUris.length == 0 ? new String[] {REDIRECT} : redirectUris) {
            if (uris.length() > 0) uris.append(',');
            uris.append('"').append(u).append('"');
        }
        this.authMethod = authMethod;
        HttpResponse<String> r = server.postJson("/register", "{\"client_name\":\"Test Client\",\"redirect_uris\":[" + uris
                + "],\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"" + authMethod + "\"}");
        if (r.statusCode() != 201) throw new AssertionError("register: " + r.statusCode() + " " + r.body());
        JsonNode body = TestServer.json(r);
        clientId = body.get("client_id").asText();
        clientSecret = body.has("client_secret") ? body.get("client_secret").asText() : null;
        redirectUri = body.get("redirect_uris").get(0).asText();
        return body;
    }

    /** Registers a public client straight into the store (for tests that are not about registration). */
    public void registerDirect(String... redirectUris) {
        clientId = Secrets.mint(Secrets.CLIENT_ID);
        authMethod = "none";
        java.util.List<String> uris = redirectUris.length == 0 ? java.util.List.of(REDIRECT) : java.util.List.of(redirectUris);
        redirectUri = uris.get(0);
        server.server.clients.put(new io.mcpoauth.store.ClientRecord(clientId, "Test Client", uris,
                java.util.List.of("authorization_code", "refresh_token"), java.util.List.of("code"), "none", null, null, null, null,
                Instant.now(), null, null, null));
    }

    public String authorizeUrl(Map<String, String> overrides) {
        verifier = Secrets.randomString(32);
        state = Secrets.randomString(12);
        Map<String, String> p = new LinkedHashMap<>();
        p.put("response_type", "code");
        p.put("client_id", clientId);
        p.put("redirect_uri", redirectUri);
        p.put("code_challenge", challenge(verifier));
        p.put("code_challenge_method", "S256");
        p.put("state", state);
        p.put("scope", "mcp");
        p.put("resource", server.url + "/mcp");
        p.putAll(overrides);
        p.values().removeIf(v -> v == null);
        return server.url + "/authorize?" + TestServer.form(p);
    }

    public static String challenge(String verifier) {
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(Secrets.sha256(verifier.getBytes(StandardCharsets.US_ASCII)));
    }

    /** A browser GET carrying the session cookie; remembers a new cookie. */
    public HttpResponse<String> browserGet(String url) {
        HttpRequest.Builder b = server.request(url).GET();
        if (cookie != null) b.header("Cookie", cookie);
        return remember(server.send(b));
    }

    public HttpResponse<String> browserPost(String path, Map<String, String> form) {
        HttpRequest.Builder b = server.request(path).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(TestServer.form(form)));
        if (cookie != null) b.header("Cookie", cookie);
        return remember(server.send(b));
    }

    private HttpResponse<String> remember(HttpResponse<String> r) {
        r.headers().allValues("Set-Cookie").forEach(c -> cookie = c.substring(0, c.indexOf(';')));
        return r;
    }

    /** The hidden inputs of the page's form. */
    public static Map<String, String> hiddenFields(String html) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = INPUT.matcher(html);
        while (m.find()) {
            Matcher n = NAME.matcher(m.group());
            Matcher v = VALUE.matcher(m.group());
            if (n.find()) out.put(n.group(1), v.find() ? v.group(1) : "");
        }
        return out;
    }

    /**
     * Runs the browser part from the authorization URL to the redirect back to the client, signing in and consenting
     * when asked. Returns the query parameters of the final redirect.
     */
    public Map<String, String> authorize(String user, String password, String decision) {
        return authorize(user, password, decision, Map.of());
    }

    /** Like {@link #authorize(String, String, String)} with authorization request parameters overridden. */
    public Map<String, String> authorize(String user, String password, String decision, Map<String, String> overrides) {
        HttpResponse<String> r = browserGet(authorizeUrl(overrides));
        for (int hops = 0; hops < 10; hops++) {
            if (r.statusCode() == 302 || r.statusCode() == 303) {
                String loc = r.headers().firstValue("Location").orElseThrow();
                if (loc.startsWith(redirectUri)) return query(loc);
                r = browserGet(loc.startsWith("/") ? server.url + loc : loc);
                continue;
            }
            if (r.statusCode() != 200) throw new AssertionError("unexpected " + r.statusCode() + ": " + r.body());
            Map<String, String> form = hiddenFields(r.body());
            if (r.body().contains("name=\"password\"")) {
                loginPages++;
                form.put("username", user);
                form.put("password", password);
                r = browserPost("/login", form);
            } else if (r.body().contains("name=\"decision\"")) {
                consentPages++;
                lastConsentPage = r.body();
                form.put("decision", decision);
                r = browserPost("/consent", form);
            } else {
                throw new AssertionError("unexpected page: " + r.body());
            }
        }
        throw new AssertionError("too many redirects");
    }

    public static Map<String, String> query(String url) {
        Map<String, String> out = new LinkedHashMap<>();
        String q = URI.create(url).getRawQuery();
        if (q == null) return out;
        for (String kv : q.split("&")) {
            int eq = kv.indexOf('=');
            out.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** POST /token with this client's authentication method. */
    public HttpResponse<String> token(Map<String, String> form) {
        Map<String, String> f = new LinkedHashMap<>(form);
        HttpRequest.Builder b = server.request("/token").header("Content-Type", "application/x-www-form-urlencoded");
        switch (authMethod) {
            case "client_secret_basic" -> b.header("Authorization", "Basic " + java.util.Base64.getEncoder()
                    .encodeToString((TestServer.enc(clientId) + ":" + TestServer.enc(clientSecret)).getBytes(StandardCharsets.UTF_8)));
            case "client_secret_post" -> {
                f.put("client_id", clientId);
                f.put("client_secret", clientSecret);
            }
            default -> f.put("client_id", clientId);
        }
        return server.send(b.POST(HttpRequest.BodyPublishers.ofString(TestServer.form(f))));
    }

    public HttpResponse<String> exchange(String code) {
        return token(TestServer.map("grant_type", "authorization_code", "code", code, "code_verifier", verifier,
                "redirect_uri", redirectUri, "resource", server.url + "/mcp"));
    }

    public HttpResponse<String> refresh(String refreshToken) {
        return token(TestServer.map("grant_type", "refresh_token", "refresh_token", refreshToken, "resource", server.url + "/mcp"));
    }
}
