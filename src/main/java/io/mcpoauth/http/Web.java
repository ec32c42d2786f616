package io.mcpoauth.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.http.Context;
import io.mcpoauth.core.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/** The few things every HTTP edge does the same way: JSON without nulls, no-store, OAuth errors, HTML pages. */
public final class Web {
    /** The request attribute holding the OAuth error code of a refused request (see {@link #oauthError}). */
    public static final String ERROR_ATTRIBUTE = "io.mcpoauth.oauth_error";

    private Web() {}

    public static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(Json.MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Token-bearing or secret-bearing responses must not be cached (RFC 6749 §5.1). */
    public static void noStore(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        ctx.header("Pragma", "no-cache");
    }

    /** {@code {"error": ..., "error_description": ...}} with the error's status and no-store. */
    public static void oauthError(Context ctx, OAuthError e) {
        noStore(ctx);
        ctx.attribute(ERROR_ATTRIBUTE, e.code()); // counted by error code in /metrics
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.code());
        body.put("error_description", e.description());
        json(ctx, e.httpStatus(), body);
    }

    /** An HTML page with the anti-framing, no-store and CSP headers every page carries. */
    public static void page(Context ctx, int status, String html) {
        Html.SECURITY_HEADERS.forEach(ctx::header);
        ctx.status(status).contentType("text/html; charset=utf-8").result(html);
    }

    /** The form body, parsed strictly: a repeated parameter is an error (Javalin would silently take the first). */
    public static Params form(Context ctx) {
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(java.util.Locale.ROOT);
        if (!type.startsWith("application/x-www-form-urlencoded")) {
            throw OAuthError.invalidRequest("Send the parameters as an application/x-www-form-urlencoded body.");
        }
        Params p = Params.parseUrlEncoded(ctx.body());
        p.requireNoDuplicates();
        return p;
    }

    /** The query string, parsed strictly. */
    public static Params query(Context ctx) {
        Params p = Params.parseUrlEncoded(ctx.queryString() == null ? "" : ctx.queryString());
        p.requireNoDuplicates();
        return p;
    }
}
