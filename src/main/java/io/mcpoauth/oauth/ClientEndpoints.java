package io.mcpoauth.oauth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mcpoauth.core.AddressKey;
import io.mcpoauth.core.Json;
import io.mcpoauth.core.RateLimiter;
import io.mcpoauth.core.Ticker;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.Bodies;
import io.mcpoauth.http.Challenge;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import io.mcpoauth.http.Web;
import io.mcpoauth.store.ClientRecord;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * HTTP edges of client registration ({@code POST /register}, RFC 7591), client management
 * ({@code GET/PUT/DELETE /register/{client_id}}, RFC 7592), revocation ({@code POST /revoke}, RFC 7009) and
 * introspection ({@code POST /introspect}, RFC 7662). The logic lives in {@link Registration}, {@link Revocation}
 * and {@link Introspection}; this class reads bodies (through {@link Bodies} and {@link Web#form}: 413 above
 * {@link Bodies#MAX_BYTES}, whether the length is declared or the body is chunked), maps failures to the right status
 * and headers, and rate-limits registration per client address.
 */
public final class ClientEndpoints {
    private static final ObjectReader JSON = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final OAuthServices s;
    private final Registration registration;
    private final Revocation revocation;
    private final Introspection introspection;
    private final RateLimiter registrations;

    public ClientEndpoints(OAuthServices services) {
        this(services, Ticker.SYSTEM);
    }

    /** @param ticker the registration limit's time (monotonic; tests pass their own) */
    public ClientEndpoints(OAuthServices services, Ticker ticker) {
        this.s = services;
        this.registration = new Registration(services);
        this.revocation = new Revocation(services);
        this.introspection = new Introspection(services);
        // RateLimiter needs window/permits > permits; above ~240,000 per minute that fails, and such a limit means
        // "unlimited" anyway, so it is capped.
        int perMinute = Math.min(services.settings().registrationRateLimit, 100_000);
        this.registrations = new RateLimiter(perMinute, Duration.ofMinutes(1), 100_000, ticker);
    }

    public void routes(JavalinConfig config) {
        MetadataEndpoints.allowBrowsers(config, Metadata.REGISTER, "POST, OPTIONS");
        MetadataEndpoints.allowBrowsers(config, Metadata.REGISTER + "/{client_id}", "GET, PUT, DELETE, OPTIONS");
        MetadataEndpoints.allowBrowsers(config, Metadata.REVOKE, "POST, OPTIONS");

        config.routes.post(Metadata.REGISTER, this::register);
        config.routes.get(Metadata.REGISTER, ctx -> methodNotAllowed(ctx, "POST", "Register a client with POST and a JSON body."));
        config.routes.get(Metadata.REGISTER + "/{client_id}", ctx -> manage(ctx, () -> {
            Map<String, Object> body = registration.read(ctx.pathParam("client_id"), ctx.header("Authorization"));
            Web.noStore(ctx);
            Web.json(ctx, 200, body);
        }));
        config.routes.put(Metadata.REGISTER + "/{client_id}", ctx -> manage(ctx, () -> {
            String id = ctx.pathParam("client_id");
            registration.authorize(id, ctx.header("Authorization")); // 401 before the body is even read
            JsonNode json = jsonBody(ctx);
            Map<String, Object> body = registration.update(id, ctx.header("Authorization"), json);
            Web.noStore(ctx);
            Web.json(ctx, 200, body);
        }));
        config.routes.delete(Metadata.REGISTER + "/{client_id}", ctx -> manage(ctx, () -> {
            registration.delete(ctx.pathParam("client_id"), ctx.header("Authorization"));
            Web.noStore(ctx);
            ctx.status(204);
        }));

        config.routes.post(Metadata.REVOKE, this::revoke);
        config.routes.get(Metadata.REVOKE, ctx -> methodNotAllowed(ctx, "POST", "Revoke a token with POST and a form body."));
        config.routes.post(Metadata.INTROSPECT, this::introspect);
        config.routes.get(Metadata.INTROSPECT, ctx -> methodNotAllowed(ctx, "POST", "Introspect a token with POST and a form body."));
    }

    // ---- registration ----

    private void register(Context ctx) {
        RateLimiter.Decision d = registrations.tryAcquire(AddressKey.of(ctx.ip()));
        if (!d.allowed()) {
            Bodies.drain(ctx.req());
            ctx.header("Retry-After", String.valueOf(d.retryAfterSeconds()));
            Web.oauthError(ctx, new OAuthError(OAuthError.TEMPORARILY_UNAVAILABLE, "Too many client registrations from your address"
                    + " (the limit is " + s.settings().registrationRateLimit + " per minute); try again in "
                    + d.retryAfterSeconds() + " seconds.", 429));
            return;
        }
        JsonNode json = jsonBody(ctx);
        Map<String, Object> body = registration.register(json, s.clock().instant());
        Web.noStore(ctx);
        Web.json(ctx, 201, body);
    }

    private interface Action {
        void run() throws Exception;
    }

    /** Runs an RFC 7592 action; a 401 carries the Bearer challenge (RFC 6750 §3). */
    private static void manage(Context ctx, Action action) throws Exception {
        try {
            action.run();
        } catch (OAuthError e) {
            if (OAuthError.INVALID_TOKEN.equals(e.code())) {
                Bodies.drain(ctx.req());
                boolean sent = BearerToken.parse(ctx.header("Authorization")).present();
                (sent ? Challenge.bearer().error(OAuthError.INVALID_TOKEN) : Challenge.bearer().realm(Challenge.REALM)).to(ctx);
            }
            throw e;
        }
    }

    /** The JSON body: Content-Type must be JSON; over the limit 413; not JSON, duplicate keys, too deep: 400. */
    private static JsonNode jsonBody(Context ctx) {
        if (!Web.hasMediaType(ctx.contentType(), Web.JSON)) {
            Bodies.drain(ctx.req());
            throw OAuthError.invalidClientMetadata("Send the client metadata as a JSON object with Content-Type: application/json.");
        }
        byte[] bytes = Bodies.read(ctx.req(), Bodies.MAX_BYTES, OAuthError.INVALID_CLIENT_METADATA);
        if (bytes.length == 0) throw OAuthError.invalidClientMetadata("The request body is empty: send the client metadata as a JSON object.");
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw OAuthError.invalidClientMetadata(jsonProblem(e));
        } catch (IOException | RuntimeException e) {
            throw OAuthError.invalidClientMetadata("The request body is not valid JSON.");
        }
    }

    private static String jsonProblem(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (m.startsWith("Duplicate field")) return "The JSON body repeats a field (" + m.replaceAll("[^ -~]", "?") + "); each field may appear once.";
        if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
            return "The JSON body is nested too deeply or too large.";
        }
        return "The request body is not valid JSON.";
    }

    // ---- revocation and introspection ----

    private void revoke(Context ctx) {
        Params form = Web.form(ctx);
        ClientRecord client;
        try {
            client = s.clientAuthentication().authenticate(ctx.header("Authorization"), form);
        } catch (ClientAuthentication.Failure f) {
            clientFailure(ctx, f);
            return;
        }
        String token = form.first("token");
        if (token == null) throw OAuthError.invalidRequest("The token parameter is missing: send the token to revoke.");
        revocation.revoke(client, token, form.first("token_type_hint"), s.clock().instant());
        Web.noStore(ctx);
        ctx.status(200);
    }

    private void introspect(Context ctx) {
        Params form = Web.form(ctx);
        Introspection.Caller caller;
        try {
            caller = introspection.authenticate(ctx.header("Authorization"), form);
        } catch (ClientAuthentication.Failure f) {
            clientFailure(ctx, f);
            return;
        } catch (OAuthError e) {
            if (OAuthError.INVALID_TOKEN.equals(e.code())) Challenge.bearer().error(OAuthError.INVALID_TOKEN).to(ctx);
            throw e;
        }
        String token = form.first("token");
        if (token == null) throw OAuthError.invalidRequest("The token parameter is missing: send the token to introspect.");
        Map<String, Object> body = introspection.introspect(caller, token, form.first("token_type_hint"), s.clock().instant());
        Web.noStore(ctx);
        Web.json(ctx, 200, body);
    }

    /** A client that did not authenticate: the OAuth error, with a Basic challenge when its credentials came that way. */
    static void clientFailure(Context ctx, ClientAuthentication.Failure f) {
        if (f.basicChallenge()) Challenge.basic().realm(Challenge.REALM).to(ctx);
        Web.oauthError(ctx, f.error());
    }

    /** 405 with {@code Allow} and an invalid_request body, for the wrong method at an OAuth endpoint. */
    static void methodNotAllowed(Context ctx, String allow, String sentence) {
        ctx.header("Allow", allow);
        Web.oauthError(ctx, new OAuthError(OAuthError.INVALID_REQUEST, sentence, 405));
    }
}
