package io.mcpoauth.idp;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.mcpoauth.core.Json;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.Params;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A small identity provider for tests, on a free loopback port. It serves every provider's layout at once: OpenID
 * Connect (discovery, /authorize, /token, /userinfo), Google (/o/oauth2/v2/auth, /token, /v1/userinfo), Microsoft
 * Entra (/{tenant}/oauth2/v2.0/authorize|token, /oidc/userinfo) and GitHub (/login/oauth/authorize,
 * /login/oauth/access_token with form-encoded answers and HTTP-200 errors, /user, /user/emails).
 *
 * <p>The authorization endpoint approves at once as {@link #user} and redirects back with a code (or with
 * {@link #authorizeError}). It checks the client id, redirect URI, client secret and PKCE like a real provider.
 * Switches make it fail: {@link #tokenMode}, {@link #refreshMode}, {@link #userinfoMode}. Every request is recorded
 * with its Authorization header ({@link #requests}), for the token-passthrough check.
 */
public final class FakeIdp implements AutoCloseable {
    public enum Mode { OK, STATUS_500, HANG, INVALID_GRANT, INVALID_CLIENT, NO_SUB }

    /** Who the provider signs in. */
    public record User(String sub, String email, boolean emailVerified, String name, String login) {
        public static User of(String sub, String email) {
            return new User(sub, email, true, "User " + sub, "login-" + sub);
        }
    }

    /** One request as the provider saw it. */
    public record Seen(String method, String path, Map<String, String> query, Map<String, String> form, String authorization) {}

    private record Code(User user, String clientId, String redirectUri, String challenge, String nonce, String scope, String path) {}

    public final String clientId;
    public final String clientSecret;
    public volatile User user = User.of("alice-sub", "alice@example.com");
    public volatile String authorizeError;
    public volatile Mode tokenMode = Mode.OK;
    public volatile Mode refreshMode = Mode.OK;
    public volatile Mode userinfoMode = Mode.OK;
    public volatile int expiresIn = 3600;
    public volatile boolean issueRefreshToken = true;
    public volatile boolean rotateRefreshTokens = true;
    public volatile boolean sendIdToken = true;
    /** When false, the discovery document has no userinfo_endpoint (the subject must come from the id_token). */
    public volatile boolean discoveryUserinfo = true;
    /** When set, the id_token names this subject instead of the user's. */
    public volatile String idTokenSub;
    public final List<Seen> requests = new CopyOnWriteArrayList<>();
    /** Every access and refresh token this provider issued (to look for them in files). */
    public final List<String> issued = new CopyOnWriteArrayList<>();
    public final AtomicInteger refreshCalls = new AtomicInteger();
    private final Map<String, Code> codes = new ConcurrentHashMap<>();
    private final Map<String, User> accessTokens = new ConcurrentHashMap<>();
    private final Map<String, User> refreshTokens = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final Javalin app;
    public final String url;

    public FakeIdp(String clientId, String clientSecret) {
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.jetty.host = "127.0.0.1";
            c.jetty.port = 0;
            c.routes.before(this::record);
            c.routes.get("/.well-known/openid-configuration", this::discovery);
            for (String p : List.of("/authorize", "/o/oauth2/v2/auth", "/{tenant}/oauth2/v2.0/authorize", "/login/oauth/authorize")) {
                c.routes.get(p, this::authorize);
            }
            for (String p : List.of("/token", "/{tenant}/oauth2/v2.0/token", "/login/oauth/access_token")) {
                c.routes.post(p, this::token);
            }
            for (String p : List.of("/userinfo", "/v1/userinfo", "/oidc/userinfo", "/user")) {
                c.routes.get(p, this::userinfo);
            }
            c.routes.get("/user/emails", this::emails);
            c.routes.post("/introspect", this::introspect);
            c.routes.delete("/applications/{client}/grant", this::githubRevokeGrant);
        });
        app.start();
        this.url = "http://127.0.0.1:" + app.port();
    }

    public FakeIdp() {
        this("test-client-id", "test-client-secret-" + Secrets.randomString(8));
    }

    public int port() {
        return app.port();
    }

    /** The recorded requests to paths ending with {@code suffix}. */
    public List<Seen> seen(String suffix) {
        return requests.stream().filter(r -> r.path().endsWith(suffix)).toList();
    }

    /** Whether a token grant of {@code grantType} was seen. */
    public List<Seen> tokenRequests(String grantType) {
        return requests.stream().filter(r -> r.method().equals("POST") && grantType.equals(r.form().get("grant_type"))).toList();
    }

    /** Revokes every refresh token (the user removed the app's access at the provider). */
    public void forgetRefreshTokens() {
        refreshTokens.clear();
    }

    private void record(Context ctx) {
        Map<String, String> form = Map.of();
        if ("POST".equals(ctx.method().name()) && ctx.contentType() != null && ctx.contentType().startsWith("application/x-www-form-urlencoded")) {
            form = flat(Params.parseUrlEncoded(ctx.body()));
        }
        if (ctx.contentType() != null && ctx.contentType().startsWith("application/json")) { // its top-level strings, as a form
            Map<String, String> json = new LinkedHashMap<>();
            try {
                com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(ctx.body()).fields()
                        .forEachRemaining(e -> json.put(e.getKey(), e.getValue().asText()));
            } catch (java.io.IOException | RuntimeException ignored) {
                // not JSON: nothing to record
            }
            form = json;
        }
        requests.add(new Seen(ctx.method().name(), ctx.path(), flat(Params.parseUrlEncoded(ctx.queryString() == null ? "" : ctx.queryString())),
                form, ctx.header("Authorization")));
    }

    private static Map<String, String> flat(Params p) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : p.names()) m.put(n, p.first(n));
        return m;
    }

    private void discovery(Context ctx) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("issuer", url);
        d.put("authorization_endpoint", url + "/authorize");
        d.put("token_endpoint", url + "/token");
        if (discoveryUserinfo) d.put("userinfo_endpoint", url + "/userinfo");
        d.put("jwks_uri", url + "/jwks");
        d.put("response_types_supported", List.of("code"));
        d.put("subject_types_supported", List.of("public"));
        d.put("id_token_signing_alg_values_supported", List.of("RS256"));
        d.put("scopes_supported", List.of("openid", "email", "profile", "offline_access"));
        d.put("code_challenge_methods_supported", List.of("S256"));
        if (introspection) d.put("introspection_endpoint", url + "/introspect");
        d.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post"));
        ctx.json(d);
    }

    private void authorize(Context ctx) {
        String redirect = ctx.queryParam("redirect_uri");
        String state = ctx.queryParam("state");
        if (!clientId.equals(ctx.queryParam("client_id")) || redirect == null) {
            ctx.status(400).result("unknown client or no redirect_uri");
            return;
        }
        Map<String, String> back = new LinkedHashMap<>();
        if (authorizeError != null) {
            back.put("error", authorizeError);
        } else {
            String code = "idp-code-" + Secrets.randomString(16);
            codes.put(code, new Code(user, clientId, redirect, ctx.queryParam("code_challenge"), ctx.queryParam("nonce"), ctx.queryParam("scope"), ctx.path()));
            back.put("code", code);
        }
        if (state != null) back.put("state", state);
        String q = back.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
        ctx.status(302).header("Location", redirect + (redirect.contains("?") ? "&" : "?") + q);
    }

    private boolean github(Context ctx) {
        return ctx.path().startsWith("/login/oauth");
    }

    private void token(Context ctx) {
        Params f = Params.parseUrlEncoded(ctx.body());
        String grant = f.first("grant_type");
        Mode mode = "refresh_token".equals(grant) ? refreshMode : tokenMode;
        if ("refresh_token".equals(grant)) refreshCalls.incrementAndGet();
        if (mode == Mode.HANG) {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ctx.status(504).result("too late");
            return;
        }
        if (mode == Mode.STATUS_500) {
            ctx.status(500).contentType("text/html").result("<html><body>Internal error</body></html>");
            return;
        }
        if (!clientAuthenticated(ctx, f) || mode == Mode.INVALID_CLIENT) {
            error(ctx, 401, "invalid_client", "client authentication failed");
            return;
        }
        if (mode == Mode.INVALID_GRANT) {
            error(ctx, 400, "invalid_grant", "the grant is no longer valid");
            return;
        }
        User u;
        String nonce = null;
        String scope;
        if ("authorization_code".equals(grant)) {
            Code c = codes.remove(String.valueOf(f.first("code")));
            if (c == null || !c.redirectUri().equals(f.first("redirect_uri"))) {
                error(ctx, 400, "invalid_grant", "unknown code or redirect_uri mismatch");
                return;
            }
            if (c.challenge() != null) {
                String v = f.first("code_verifier");
                String expected = v == null ? null : Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(Secrets.sha256(v.getBytes(StandardCharsets.US_ASCII)));
                if (!c.challenge().equals(expected)) {
                    error(ctx, 400, "invalid_grant", "PKCE verification failed");
                    return;
                }
            }
            u = c.user();
            nonce = c.nonce();
            scope = c.scope();
        } else if ("refresh_token".equals(grant)) {
            String rt = String.valueOf(f.first("refresh_token"));
            u = rotateRefreshTokens ? refreshTokens.remove(rt) : refreshTokens.get(rt);
            if (u == null) {
                error(ctx, 400, "invalid_grant", "unknown refresh token");
                return;
            }
            scope = f.first("scope");
        } else {
            error(ctx, 400, "unsupported_grant_type", "no");
            return;
        }
        String at = "idp-at-" + Secrets.randomString(24);
        accessTokens.put(at, u);
        issued.add(at);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("access_token", at);
        out.put("token_type", "Bearer");
        out.put("expires_in", expiresIn);
        if (scope != null) out.put("scope", scope);
        if (issueRefreshToken && ("authorization_code".equals(grant) || rotateRefreshTokens)) {
            String rt = "idp-rt-" + Secrets.randomString(24);
            refreshTokens.put(rt, u);
            issued.add(rt);
            out.put("refresh_token", rt);
        }
        if (sendIdToken && !github(ctx) && "authorization_code".equals(grant)) out.put("id_token", idToken(u, nonce));
        if (github(ctx)) {
            ctx.contentType("application/x-www-form-urlencoded")
                    .result(out.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(String.valueOf(e.getValue()))).collect(Collectors.joining("&")));
        } else {
            ctx.header("Cache-Control", "no-store").json(out);
        }
    }

    /** RFC 7662 for refresh tokens: active while the token can still be used (introspection never uses it). */
    public volatile boolean introspection = false;

    /** GitHub's DELETE /applications/{client_id}/grant: the app's Basic credentials, {"access_token": ...}; ends the user's tokens. */
    private void githubRevokeGrant(Context ctx) throws java.io.IOException {
        if (!clientId.equals(ctx.pathParam("client")) || !clientAuthenticated(ctx, Params.parseUrlEncoded(""))) {
            error(ctx, 401, "invalid_client", "client authentication failed");
            return;
        }
        String token = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(ctx.body()).path("access_token").asText("");
        User u = accessTokens.remove(token);
        if (u == null) {
            ctx.status(404);
            return;
        }
        refreshTokens.values().removeIf(u::equals);
        revokedGrants.add(token);
        ctx.status(204);
    }

    /** The access tokens whose grant was ended through GitHub's revocation API. */
    public final List<String> revokedGrants = new CopyOnWriteArrayList<>();

    private void introspect(Context ctx) {
        Params f = Params.parseUrlEncoded(ctx.body());
        if (!clientAuthenticated(ctx, f)) {
            error(ctx, 401, "invalid_client", "client authentication failed");
            return;
        }
        ctx.json(Map.of("active", refreshTokens.containsKey(String.valueOf(f.first("token")))));
    }

    private boolean clientAuthenticated(Context ctx, Params f) {
        String basic = ctx.header("Authorization");
        if (basic != null && basic.startsWith("Basic ")) {
            String decoded = new String(Base64.getDecoder().decode(basic.substring(6)), StandardCharsets.UTF_8);
            String[] idSecret = decoded.split(":", 2);
            return idSecret.length == 2 && clientId.equals(java.net.URLDecoder.decode(idSecret[0], StandardCharsets.UTF_8))
                    && clientSecret.equals(java.net.URLDecoder.decode(idSecret[1], StandardCharsets.UTF_8));
        }
        return clientId.equals(f.first("client_id")) && clientSecret.equals(f.first("client_secret"));
    }

    private void error(Context ctx, int status, String code, String description) {
        if (github(ctx)) {
            // GitHub answers token errors with HTTP 200 and its own codes
            String gh = switch (code) {
                case "invalid_grant" -> ctx.body().contains("refresh_token") ? "bad_refresh_token" : "bad_verification_code";
                case "invalid_client" -> "incorrect_client_credentials";
                default -> code;
            };
            ctx.status(200).contentType("application/x-www-form-urlencoded").result("error=" + gh + "&error_description=" + enc(description));
            return;
        }
        ctx.status(status).json(Map.of("error", code, "error_description", description));
    }

    private String idToken(User u, String nonce) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("iss", url);
        c.put("aud", clientId);
        c.put("sub", idTokenSub != null ? idTokenSub : u.sub());
        c.put("iat", Instant.now().getEpochSecond());
        c.put("exp", Instant.now().getEpochSecond() + 600);
        if (nonce != null) c.put("nonce", nonce);
        if (u.email() != null) c.put("email", u.email());
        try {
            Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
            return b.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + b.encodeToString(Json.MAPPER.writeValueAsBytes(c)) + ".";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private User bearer(Context ctx) {
        String h = ctx.header("Authorization");
        if (h == null || !h.startsWith("Bearer ")) return null;
        return accessTokens.get(h.substring(7));
    }

    private void userinfo(Context ctx) {
        User u = bearer(ctx);
        if (u == null) {
            ctx.status(401).header("WWW-Authenticate", "Bearer error=\"invalid_token\"").result("");
            return;
        }
        if (userinfoMode == Mode.STATUS_500) {
            ctx.status(500).result("userinfo is down");
            return;
        }
        if (userinfoMode == Mode.HANG) {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        if (ctx.path().equals("/user")) {
            if (userinfoMode != Mode.NO_SUB) m.put("id", Long.parseLong(u.sub().replaceAll("\\D", "").isEmpty() ? "1" : u.sub().replaceAll("\\D", "")));
            m.put("login", u.login());
            m.put("name", u.name());
            m.put("email", null);
        } else {
            if (userinfoMode != Mode.NO_SUB) m.put("sub", u.sub());
            m.put("name", u.name());
            if (u.email() != null) {
                m.put("email", u.email());
                m.put("email_verified", u.emailVerified());
            }
        }
        ctx.json(m);
    }

    private void emails(Context ctx) {
        User u = bearer(ctx);
        if (u == null) {
            ctx.status(401).result("");
            return;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(Map.of("email", "secondary-" + u.email(), "primary", false, "verified", true));
        if (u.email() != null) out.add(Map.of("email", u.email(), "primary", true, "verified", u.emailVerified()));
        ctx.json(out);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        release.countDown();
        app.stop();
    }
}
