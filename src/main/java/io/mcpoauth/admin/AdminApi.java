package io.mcpoauth.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.mcpoauth.core.Cidr;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.BearerToken;
import io.mcpoauth.http.Bodies;
import io.mcpoauth.http.Challenge;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Web;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * {@code /admin/api/...}: the administrative operations as JSON.
 *
 * <p>Two credentials, each good on one door only:
 * <ul>
 *   <li>On the public port: {@code Authorization: Bearer <ADMIN_TOKEN>}. With {@code ADMIN_TOKEN} unset every
 *       {@code /admin/api} path answers 404, whatever is sent.</li>
 *   <li>On the loopback admin port (the one in {@code .oauth_data/.admin-api.json}): the random token in that file,
 *       and only from a loopback peer. This is how the commands reach a running server.</li>
 * </ul>
 * Tokens are compared in constant time. A wrong or missing token is 401 with a Bearer challenge.
 */
final class AdminApi {
    static final String PREFIX = io.mcpoauth.ops.Operations.ADMIN_PREFIX;

    private final Supplier<Admin> admin;
    private final String adminToken;
    private final IntSupplier adminPort;
    private final Supplier<String> socketToken;

    private io.mcpoauth.resource.gateway.Gateway gateway;

    /** The upstream MCP servers for {@code /admin/api/servers} (null: none configured). */
    AdminApi gateway(io.mcpoauth.resource.gateway.Gateway gateway) {
        this.gateway = gateway;
        return this;
    }

    private Supplier<io.mcpoauth.resource.gateway.Gateway.Reload> reload;

    /** What {@code POST /admin/api/servers/reload} runs (null: it answers that there is nothing to reload). */
    AdminApi reload(Supplier<io.mcpoauth.resource.gateway.Gateway.Reload> reload) {
        this.reload = reload;
        return this;
    }

    AdminApi(Supplier<Admin> admin, String adminToken, IntSupplier adminPort, Supplier<String> socketToken) {
        this.admin = admin;
        this.adminToken = adminToken;
        this.adminPort = adminPort;
        this.socketToken = socketToken;
    }

    void routes(JavalinConfig config) {
        config.routes.exception(AdminException.class, (e, ctx) -> send(ctx, e));
        config.routes.get(PREFIX + "/clients", guarded(ctx -> ok(ctx, 200, Map.of("clients", admin.get().clients()))));
        config.routes.get(PREFIX + "/clients/{client_id}", guarded(ctx -> ok(ctx, 200, admin.get().client(ctx.pathParam("client_id")))));
        config.routes.delete(PREFIX + "/clients/{client_id}", guarded(ctx -> ok(ctx, 200, admin.get().removeClient(ctx.pathParam("client_id")))));

        config.routes.get(PREFIX + "/tokens", guarded(ctx -> ok(ctx, 200,
                Map.of("grants", admin.get().grants(ctx.queryParam("user"), ctx.queryParam("client_id"))))));
        config.routes.post(PREFIX + "/tokens/revoke", guarded(ctx -> {
            JsonNode b = body(ctx);
            ok(ctx, 200, admin.get().revokeGrants(text(b, "user"), text(b, "client_id"), text(b, "family_id")));
        }));

        config.routes.get(PREFIX + "/apikeys", guarded(ctx -> ok(ctx, 200, Map.of("api_keys", admin.get().apiKeys()))));
        config.routes.post(PREFIX + "/apikeys", guarded(ctx -> {
            JsonNode b = body(ctx);
            List<String> scopes = new ArrayList<>();
            JsonNode s = b.get("scopes");
            if (s != null && !s.isNull()) {
                if (!s.isArray()) throw AdminException.invalid("scopes must be an array of strings.");
                for (JsonNode x : s) {
                    if (!x.isTextual()) throw AdminException.invalid("scopes must be an array of strings.");
                    scopes.add(x.asText());
                }
            }
            ok(ctx, 201, admin.get().createApiKey(required(b, "user"), required(b, "name"), scopes));
        }));
        config.routes.delete(PREFIX + "/apikeys/{id}", guarded(ctx -> ok(ctx, 200, admin.get().revokeApiKey(ctx.pathParam("id")))));

        config.routes.get(PREFIX + "/users", guarded(ctx -> ok(ctx, 200, Map.of("users", admin.get().users()))));
        config.routes.post(PREFIX + "/users", guarded(ctx -> {
            JsonNode b = body(ctx);
            ok(ctx, 201, admin.get().addUser(required(b, "username"), required(b, "password").toCharArray()));
        }));
        config.routes.put(PREFIX + "/users/{name}/password", guarded(ctx -> {
            JsonNode b = body(ctx);
            ok(ctx, 200, admin.get().setPassword(ctx.pathParam("name"), required(b, "password").toCharArray(), b.path("revoke").asBoolean(false)));
        }));
        config.routes.delete(PREFIX + "/users/{name}", guarded(ctx -> ok(ctx, 200, admin.get().removeUser(ctx.pathParam("name")))));

        config.routes.get(PREFIX + "/store/check", guarded(ctx -> ok(ctx, 200, admin.get().checkStore())));
        config.routes.post(PREFIX + "/store/backup", guarded(ctx -> {
            JsonNode b = body(ctx);
            ok(ctx, 200, admin.get().backup(required(b, "dir"), b.path("include_key").asBoolean(false)));
        }));
        config.routes.post(PREFIX + "/store/recover", guarded(ctx -> {
            throw AdminException.conflict("The server is running on this data directory; stop it, then run: java -jar mcp-oauth-server.jar store recover");
        }));

        config.routes.get(PREFIX + "/servers", guarded(ctx -> {
            List<Map<String, Object>> out = new java.util.ArrayList<>();
            if (gateway != null) {
                for (io.mcpoauth.resource.gateway.ServerStats st : gateway.stats()) {
                    out.add(Map.of("name", st.name(), "transport", st.transport(), "calls", st.calls(), "errors", st.errors(), "processes", st.processes()));
                }
            }
            ok(ctx, 200, Map.of("servers", out));
        }));
        config.routes.post(PREFIX + "/servers/reload", guarded(ctx -> {
            Bodies.drain(ctx.req());
            if (reload == null) throw AdminException.conflict("This server does not front MCP servers; there is no servers file to reload.");
            io.mcpoauth.resource.gateway.Gateway.Reload r = reload.get();
            if (!r.ok()) {
                Map<String, Object> refused = new java.util.LinkedHashMap<>();
                refused.put("error", AdminException.INVALID_REQUEST);
                refused.put("error_description", r.problems().size() == 1 ? "The servers file was not reloaded (nothing changed): " + r.problems().get(0)
                        : "The servers file has " + r.problems().size() + " mistakes; nothing changed.");
                refused.put("problems", r.problems());
                ok(ctx, 400, refused);
                return;
            }
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("added", r.added());
            out.put("removed", r.removed());
            out.put("changed", r.changed());
            out.put("unchanged", r.unchanged());
            if (!r.notes().isEmpty()) out.put("notes", r.notes());
            ok(ctx, 200, out);
        }));
        config.routes.post(PREFIX + "/servers/{name}/check", guarded(ctx -> {
            String name = ctx.pathParam("name");
            if (gateway == null || !gateway.names().contains(name)) throw AdminException.notFound("No server named '" + name + "'.");
            ok(ctx, 200, gateway.check(name));
        }));

        // Anything else under the prefix: the same authentication first, so paths cannot be probed.
        Handler unknown = guarded(ctx -> {
            throw AdminException.notFound("No such admin operation: " + ctx.method() + " " + ctx.path());
        });
        for (String p : List.of(PREFIX, PREFIX + "/<rest>")) {
            config.routes.get(p, unknown);
            config.routes.post(p, unknown);
            config.routes.put(p, unknown);
            config.routes.delete(p, unknown);
        }
    }

    private Handler guarded(Handler h) {
        return ctx -> {
            authorize(ctx);
            Web.noStore(ctx);
            h.handle(ctx);
        };
    }

    /** Throws 404 (disabled), or 401, unless the request carries the credential of the door it came through. */
    void authorize(Context ctx) {
        int port = adminPort.getAsInt();
        boolean socket = port > 0 && ctx.req().getLocalPort() == port;
        String expected;
        if (socket) {
            if (!loopback(ctx.req().getRemoteAddr())) throw unauthorized();
            expected = socketToken.get();
        } else {
            if (adminToken == null) throw AdminException.notFound("Not found.");
            expected = adminToken;
        }
        String presented = BearerToken.of(ctx.req()).token(); // null unless exactly one Bearer header with a token
        // Both sides are hashed before the constant-time comparison, so neither content nor length leaks.
        boolean ok = Secrets.constantTimeEquals(presented == null ? "" : presented, expected == null ? "" : expected);
        if (!ok || presented == null || expected == null) throw unauthorized();
    }

    private static AdminException unauthorized() {
        return new AdminException(AdminException.UNAUTHORIZED, 401, "Send the admin token as 'Authorization: Bearer <ADMIN_TOKEN>'.");
    }

    static boolean loopback(String address) {
        byte[] b = Cidr.literal(address);
        if (b == null) return false;
        return b.length == 4 ? (b[0] == 127) : java.util.Arrays.equals(b, new byte[]{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    }

    private static JsonNode body(Context ctx) {
        if (!Web.hasMediaType(ctx.contentType(), Web.JSON)) {
            Bodies.drain(ctx.req());
            throw AdminException.invalid("Send a JSON object with Content-Type: application/json.");
        }
        byte[] bytes;
        try {
            bytes = Bodies.read(ctx.req(), Bodies.MAX_BYTES, AdminException.INVALID_REQUEST);
        } catch (OAuthError e) {
            throw new AdminException(e.code(), e.httpStatus(), e.description());
        }
        try {
            JsonNode n = AdminJson.MAPPER.readTree(bytes);
            if (n == null || !n.isObject()) throw AdminException.invalid("The body must be a JSON object.");
            return n;
        } catch (IOException e) {
            throw AdminException.invalid("The body is not valid JSON.");
        }
    }

    private static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual() || n.asText().isBlank()) throw AdminException.invalid(field + " must be a non-empty string.");
        return n.asText();
    }

    private static String required(JsonNode b, String field) {
        String v = text(b, field);
        if (v == null) throw AdminException.invalid(field + " is required.");
        return v;
    }

    private static void ok(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType(Web.JSON).result(AdminJson.MAPPER.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void send(Context ctx, AdminException e) {
        if (e.status() == 401) Challenge.bearer().realm("mcp-oauth-server admin").to(ctx);
        Web.error(ctx, e.status(), e.code(), e.getMessage());
    }
}
