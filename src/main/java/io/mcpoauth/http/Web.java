package io.mcpoauth.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.http.Context;
import io.mcpoauth.core.Json;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The few things every HTTP edge does the same way, for Javalin routes and for servlet filters ({@code /mcp}, the ops
 * filter) alike: JSON without nulls, no-store, the error body {@code {"error": ..., "error_description": ...}}, HTML
 * pages, and strict form bodies. Bodies are read through {@link Bodies}, bearer credentials through
 * {@link BearerToken}, challenges built with {@link Challenge}, Host and Origin checked by {@link HostPolicy}.
 */
public final class Web {
    /** The request attribute holding the error code of a refused request (see {@link #error}): counted in /metrics. */
    public static final String ERROR_ATTRIBUTE = "io.mcpoauth.oauth_error";
    /** The request attribute holding the form read by {@link #form} (even one refused for a repeated parameter). */
    public static final String FORM_ATTRIBUTE = "io.mcpoauth.form";
    public static final String JSON = "application/json";
    public static final String FORM = "application/x-www-form-urlencoded";

    private Web() {}

    // ---- JSON ----

    public static byte[] jsonBytes(Object body) {
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType(JSON).result(jsonBytes(body));
    }

    /** A complete JSON answer on a servlet response (outside Javalin), sent at once with its Content-Length. */
    public static void json(HttpServletResponse res, int status, byte[] body) throws IOException {
        res.setStatus(status);
        res.setContentType(JSON);
        res.setContentLength(body.length);
        res.getOutputStream().write(body);
    }

    // ---- caching ----

    /** Token-bearing, secret-bearing and error responses must not be cached (RFC 6749 §5.1). */
    public static void noStore(Context ctx) {
        noStore(ctx.res());
    }

    public static void noStore(HttpServletResponse res) {
        res.setHeader("Cache-Control", "no-store");
        res.setHeader("Pragma", "no-cache");
    }

    // ---- errors ----

    /** {@code {"error": ..., "error_description": ...}}, in that order. */
    public static byte[] errorBody(String error, String description) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("error_description", description);
        return jsonBytes(body);
    }

    /** An error answer: {@code status}, the error body, no-store; the code is recorded in {@link #ERROR_ATTRIBUTE}. */
    public static void error(Context ctx, int status, String error, String description) {
        noStore(ctx);
        ctx.attribute(ERROR_ATTRIBUTE, error);
        ctx.status(status).contentType(JSON).result(errorBody(error, description));
    }

    /** The same answer as {@link #error(Context, int, String, String)} on a servlet response. */
    public static void error(HttpServletRequest req, HttpServletResponse res, int status, String error, String description) throws IOException {
        noStore(res);
        req.setAttribute(ERROR_ATTRIBUTE, error);
        json(res, status, errorBody(error, description));
    }

    /** An {@link OAuthError} with its status, code and (sanitised) description. */
    public static void oauthError(Context ctx, OAuthError e) {
        error(ctx, e.httpStatus(), e.code(), e.description());
    }

    public static void oauthError(HttpServletRequest req, HttpServletResponse res, OAuthError e) throws IOException {
        error(req, res, e.httpStatus(), e.code(), e.description());
    }

    // ---- pages ----

    /** An HTML page with the anti-framing, no-store and CSP headers every page carries. */
    public static void page(Context ctx, int status, String html) {
        Html.SECURITY_HEADERS.forEach(ctx::header);
        ctx.status(status).contentType("text/html; charset=utf-8").result(html);
    }

    // ---- request bodies and queries ----

    /** True when {@code contentType} is {@code mediaType}, in any letter case, whatever its parameters (charset...). */
    public static boolean hasMediaType(String contentType, String mediaType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT).equals(mediaType);
    }

    /**
     * The form body, parsed strictly: the Content-Type must be a form (else invalid_request, the body drained), the body
     * is bounded ({@link Bodies#MAX_BYTES}: 413 above it), percent-escapes must be valid UTF-8 and a repeated parameter
     * is invalid_request (Javalin would silently take the first).
     */
    public static Params form(HttpServletRequest req) {
        if (!hasMediaType(req.getContentType(), FORM)) {
            Bodies.drain(req);
            throw OAuthError.invalidRequest("Send the parameters as an application/x-www-form-urlencoded body.");
        }
        byte[] body = Bodies.read(req, Bodies.MAX_BYTES, OAuthError.INVALID_REQUEST);
        Params p = Params.parseUrlEncoded(new String(body, StandardCharsets.UTF_8));
        req.setAttribute(FORM_ATTRIBUTE, p);
        p.requireNoDuplicates();
        return p;
    }

    public static Params form(Context ctx) {
        return form(ctx.req());
    }

    /** {@link #form} for a browser page: a refused form is an HTML error page ({@link PageError}), not JSON. */
    public static Params pageForm(Context ctx) {
        try {
            return form(ctx);
        } catch (OAuthError e) {
            boolean tooLarge = e.httpStatus() == 413;
            throw new PageError(tooLarge ? 413 : 400, "Request refused", tooLarge ? "The form is too large." : e.description());
        }
    }

    /** The form {@link #form} read from this request, or null when none was (or it could not be parsed). */
    public static Params parsedForm(HttpServletRequest req) {
        return req.getAttribute(FORM_ATTRIBUTE) instanceof Params p ? p : null;
    }
}
