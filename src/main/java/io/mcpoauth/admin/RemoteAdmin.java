package io.mcpoauth.admin;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The administrative operations through a running server's loopback admin port, with the credential it left. */
public final class RemoteAdmin implements Admin {
    private final AdminSocket.Credential credential;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    public RemoteAdmin(AdminSocket.Credential credential) {
        this.credential = credential;
    }

    /**
     * Connects to the server holding {@code dataDir}'s lock ({@code pid}), through the credential it left.
     *
     * @throws AdminException (unavailable) when there is no usable credential for that pid
     */
    public static RemoteAdmin connect(Path dataDir, String pid) {
        AdminSocket.Credential c;
        try {
            c = AdminSocket.read(dataDir);
        } catch (IOException | RuntimeException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 503, "The server (pid " + pid + ") is running, but its admin credential "
                    + dataDir.resolve(AdminSocket.FILE) + " cannot be read (" + e.getMessage() + "). Run this command as the user that runs the server.");
        }
        if (c == null || !String.valueOf(c.pid()).equals(pid) || c.url() == null || c.token() == null) {
            throw new AdminException(AdminException.UNAVAILABLE, 503, "The server (pid " + pid + ") is using the data directory "
                    + dataDir + " but has not published its admin credential (" + AdminSocket.FILE + ") yet: it may still be starting."
                    + " Try again in a moment; commands go through the running server.");
        }
        return new RemoteAdmin(c);
    }

    @Override
    public String where() {
        return "the running server (pid " + credential.pid() + ")";
    }

    @Override
    public List<ClientInfo> clients() {
        return list(call("GET", "/clients", null), "clients", ClientInfo.class);
    }

    @Override
    public ClientDetail client(String clientId) {
        return as(call("GET", "/clients/" + enc(clientId), null), ClientDetail.class);
    }

    @Override
    public ClientRemoved removeClient(String clientId) {
        return as(call("DELETE", "/clients/" + enc(clientId), null), ClientRemoved.class);
    }

    @Override
    public List<GrantInfo> grants(String user, String clientId) {
        StringBuilder q = new StringBuilder();
        if (user != null) q.append(q.length() == 0 ? '?' : '&').append("user=").append(enc(user));
        if (clientId != null) q.append(q.length() == 0 ? '?' : '&').append("client_id=").append(enc(clientId));
        return list(call("GET", "/tokens" + q, null), "grants", GrantInfo.class);
    }

    @Override
    public Revoked revokeGrants(String user, String clientId, String familyId) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("user", user);
        b.put("client_id", clientId);
        b.put("family_id", familyId);
        return as(call("POST", "/tokens/revoke", b), Revoked.class);
    }

    @Override
    public ApiKeyCreated createApiKey(String user, String name, List<String> scopes) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("user", user);
        b.put("name", name);
        b.put("scopes", scopes);
        return as(call("POST", "/apikeys", b), ApiKeyCreated.class);
    }

    @Override
    public List<ApiKeyInfo> apiKeys() {
        return list(call("GET", "/apikeys", null), "api_keys", ApiKeyInfo.class);
    }

    @Override
    public ApiKeyInfo revokeApiKey(String idOrPrefix) {
        return as(call("DELETE", "/apikeys/" + enc(idOrPrefix), null), ApiKeyInfo.class);
    }

    @Override
    public List<UserInfo> users() {
        return list(call("GET", "/users", null), "users", UserInfo.class);
    }

    @Override
    public UserInfo addUser(String name, char[] password) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("username", name);
        b.put("password", new String(password));
        return as(call("POST", "/users", b), UserInfo.class);
    }

    @Override
    public UserInfo setPassword(String name, char[] password, boolean revokeGrants) {
        return as(call("PUT", "/users/" + enc(name) + "/password", Map.of("password", new String(password), "revoke", revokeGrants)), UserInfo.class);
    }

    @Override
    public UserRemoved removeUser(String name) {
        return as(call("DELETE", "/users/" + enc(name), null), UserRemoved.class);
    }

    @Override
    public StoreReport checkStore() {
        return as(call("GET", "/store/check", null), StoreReport.class);
    }

    @Override
    public BackupReport backup(String dir, boolean includeKey) {
        return as(call("POST", "/store/backup", Map.of("dir", dir, "include_key", includeKey)), BackupReport.class);
    }

    @Override
    public void close() {
        // HttpClient needs no closing on Java 17
    }

    /** {@code POST /servers/reload}: the answer as it came ({@code added}, {@code removed}, {@code changed}, {@code unchanged}, {@code notes}). */
    public JsonNode reloadServers() {
        return call("POST", "/servers/reload", null);
    }

    private JsonNode call(String method, String path, Object body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(credential.url() + AdminApi.PREFIX + path))
                .timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + credential.token())
                .header("Accept", "application/json");
        try {
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json");
                b.method(method, HttpRequest.BodyPublishers.ofByteArray(AdminJson.MAPPER.writeValueAsBytes(body)));
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json;
            try {
                json = AdminJson.MAPPER.readTree(r.body());
            } catch (IOException e) {
                json = null;
            }
            if (r.statusCode() / 100 == 2 && json != null) return json;
            String code = json == null ? "error" : json.path("error").asText("error");
            String message = json == null ? "" : json.path("error_description").asText("");
            if (message.isEmpty()) message = "The server answered " + r.statusCode() + ".";
            if (json != null && json.path("problems").isArray() && json.path("problems").size() > 1) { // one line per mistake
                StringBuilder lines = new StringBuilder(message);
                for (JsonNode p : json.get("problems")) lines.append("\n  ").append(p.asText());
                message = lines.toString();
            }
            if (r.statusCode() == 401) {
                message = "The running server (pid " + credential.pid() + ") refused the admin credential in " + AdminSocket.FILE
                        + "; it may have restarted. Try again.";
            }
            throw new AdminException(code, r.statusCode(), message);
        } catch (ConnectException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 503, "Cannot reach the running server (pid " + credential.pid() + ") at "
                    + credential.url() + ": it may be stopping. Try again.");
        } catch (IOException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 503, "The running server (pid " + credential.pid() + ") did not answer: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(AdminException.UNAVAILABLE, 503, "Interrupted.");
        }
    }

    private static <T> T as(JsonNode json, Class<T> type) {
        try {
            return AdminJson.MAPPER.treeToValue(json, type);
        } catch (IOException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 502, "The server's answer could not be read: " + e.getMessage());
        }
    }

    private static <T> List<T> list(JsonNode json, String field, Class<T> type) {
        try {
            JavaType t = AdminJson.MAPPER.getTypeFactory().constructCollectionType(List.class, type);
            return AdminJson.MAPPER.readerFor(t).readValue(json.path(field));
        } catch (IOException e) {
            throw new AdminException(AdminException.UNAVAILABLE, 502, "The server's answer could not be read: " + e.getMessage());
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
