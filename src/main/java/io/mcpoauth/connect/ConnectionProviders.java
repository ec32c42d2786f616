package io.mcpoauth.connect;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mcpoauth.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code "connections"} of the servers file ({@code MCP_SERVERS_FILE}): what users may connect. Everything is
 * checked at start, and the start stops at the first mistake with one line naming the file, the key and what is
 * expected. An {@code "issuer"} is discovered at start (RFC 8414 {@code /.well-known/oauth-authorization-server}, then
 * OpenID Connect discovery), bounded by the timeout. The rest of the file (servers) belongs to the gateway.
 *
 * <pre>
 * "connections": {
 *   "github": {"preset": "github", "client_id": "...", "client_secret": "${GITHUB_CONNECT_SECRET}", "scopes": ["repo"]},
 *   "crm":    {"issuer": "https://auth.example.com", "client_id": "...", "client_secret": "${CRM_SECRET}", "scopes": ["read"]},
 *   "legacy": {"authorization_endpoint": "https://...", "token_endpoint": "https://...", "client_id": "...", "revocation_endpoint": "https://..."},
 *   "ownerrez": {"type": "secret", "display_name": "OwnerRez", "description": "Your OwnerRez API token"}
 * }
 * </pre>
 */
public final class ConnectionProviders {
    public static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,32}");
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final ObjectMapper STRICT = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
    private static final Set<String> OAUTH_KEYS = Set.of("type", "preset", "display_name", "issuer", "authorization_endpoint", "token_endpoint",
            "revocation_endpoint", "userinfo_endpoint", "client_id", "client_secret", "scopes", "authorize_params", "token_endpoint_auth_method",
            "rotating_refresh_tokens", "account_claim", "tenant", "allow_http", "introspection_endpoint", "revocation_style");
    private static final Set<String> SECRET_KEYS = Set.of("type", "display_name", "description");

    public static final ConnectionProviders NONE = new ConnectionProviders(Map.of());

    private final Map<String, ConnectionProvider> providers;
    /** Connection name to the URL of the gateway upstream whose own OAuth it is ({@code "mcp_server"}); resolved at first use. */
    private final Map<String, String> mcpServers;

    ConnectionProviders(Map<String, ConnectionProvider> providers, Map<String, String> mcpServers) {
        this(providers);
        this.mcpServers.putAll(mcpServers);
    }

    /** The upstream URL of an {@code "mcp_server"} connection, else null. */
    public String mcpServerUrl(String name) {
        return name == null ? null : mcpServers.get(name);
    }

    ConnectionProviders(Map<String, ConnectionProvider> providers) {
        this.mcpServers = new LinkedHashMap<>();
        this.providers = Map.copyOf(providers);
    }

    public static ConnectionProviders of(List<ConnectionProvider> list) {
        Map<String, ConnectionProvider> m = new LinkedHashMap<>();
        for (ConnectionProvider p : list) m.put(p.name(), p);
        return new ConnectionProviders(m);
    }

    public ConnectionProvider get(String name) {
        return name == null ? null : providers.get(name);
    }

    /** Sorted by name. */
    public List<ConnectionProvider> all() {
        return providers.values().stream().sorted(java.util.Comparator.comparing(ConnectionProvider::name)).toList();
    }

    public boolean isEmpty() {
        return providers.isEmpty();
    }

    /**
     * Reads the {@code "connections"} of {@code explicit} (the value of MCP_SERVERS_FILE; blank: {@code mcp-servers.json}
     * in the working directory, used only when it exists).
     *
     * @param variables what {@code ${VAR}} expands to (null when unset)
     */
    public static ConnectionProviders load(String explicit, Function<String, String> variables, Duration timeout) {
        Path path = Path.of(explicit == null || explicit.isBlank() ? "mcp-servers.json" : explicit.strip());
        if (!Files.exists(path)) {
            if (explicit == null || explicit.isBlank()) return NONE;
            throw new ConfigException("MCP_SERVERS_FILE=" + explicit.strip() + ": no such file");
        }
        return load(path, variables, timeout);
    }

    public static ConnectionProviders load(Path path, Function<String, String> variables, Duration timeout) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        return parse(path.toString(), text, variables, new Discovery(timeout));
    }

    static ConnectionProviders parse(String file, String text, Function<String, String> variables, Discovery discovery) {
        JsonNode root;
        try {
            root = STRICT.readTree(text);
        } catch (IOException e) {
            String m = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
            throw new ConfigException(file + ": not valid JSON (" + m + ")");
        }
        if (root == null || !root.isObject()) throw new ConfigException(file + ": expected a JSON object {\"servers\": {...}, \"connections\": {...}}");
        JsonNode conns = root.path("connections");
        if (conns.isMissingNode() || conns.isNull()) return NONE;
        if (!conns.isObject()) throw new ConfigException(file + ": connections: expected an object of NAME: {...}");
        Map<String, ConnectionProvider> out = new LinkedHashMap<>();
        Map<String, String> mcp = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = conns.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Entry entry = new Entry(file, e.getKey(), e.getValue(), variables, discovery);
            if (e.getValue().isObject() && e.getValue().has("mcp_server")) {
                out.put(e.getKey(), entry.mcpServer(root.path("servers"), mcp));
            } else {
                out.put(e.getKey(), entry.provider());
            }
        }
        return new ConnectionProviders(out, mcp);
    }

    /** One entry being read; every error names {@code <file>: connections.NAME.field}. */
    private static final class Entry {
        final String file;
        final String name;
        final JsonNode n;
        final Function<String, String> variables;
        final Discovery discovery;

        Entry(String file, String name, JsonNode n, Function<String, String> variables, Discovery discovery) {
            this.file = file;
            this.name = name;
            this.n = n;
            this.variables = variables;
            this.discovery = discovery;
        }

        ConfigException bad(String field, String message) {
            return new ConfigException(file + ": connections." + name + (field == null ? "" : "." + field) + ": " + message);
        }

        ConnectionProvider provider() {
            if (!NAME.matcher(name).matches()) throw bad(null, "a connection name is 1 to 32 of a-z, 0-9 and '-'");
            if (!n.isObject()) throw bad(null, "expected an object");
            String type = text("type", false);
            if (type == null) type = ConnectionProvider.OAUTH;
            if (type.equals(ConnectionProvider.SECRET)) return secret();
            if (!type.equals(ConnectionProvider.OAUTH)) throw bad("type", "expected \"oauth\" or \"secret\", not '" + type + "'");
            return oauth();
        }

        /**
         * {@code "mcp_server": "SERVERNAME"}: the OAuth of a gateway upstream (an HTTP entry of {@code servers}); its
         * endpoints and our client registration are found at the first connect, not at start.
         */
        ConnectionProvider mcpServer(JsonNode servers, Map<String, String> mcp) {
            if (!NAME.matcher(name).matches()) throw bad(null, "a connection name is 1 to 32 of a-z, 0-9 and '-'");
            onlyKeys(Set.of("mcp_server", "display_name", "scopes"));
            String server = text("mcp_server", true);
            JsonNode entry = servers.path(server);
            if (!entry.isObject()) throw bad("mcp_server", "'" + server + "' is not a server of \"servers\"");
            String url = entry.path("url").asText("");
            if (url.isEmpty()) throw bad("mcp_server", "'" + server + "' is a stdio server; only an HTTP server (\"url\") has OAuth of its own");
            mcp.put(name, url);
            List<String> scopes = new ArrayList<>();
            if (n.has("scopes")) {
                if (!n.get("scopes").isArray()) throw bad("scopes", "expected a list of strings");
                for (JsonNode sc : n.get("scopes")) scopes.add(sc.asText());
            }
            String display = text("display_name", false);
            return new ConnectionProvider(name, ConnectionProvider.OAUTH, display == null ? server : display, null, null, null, null, null, false,
                    null, null, scopes, Map.of("resource", url), "none", false, null, null, null, null);
        }

        private void onlyKeys(Set<String> allowed) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw bad(k, "unknown key; expected one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
                }
            }
        }

        private ConnectionProvider secret() {
            onlyKeys(SECRET_KEYS);
            String display = text("display_name", false);
            String description = text("description", false);
            return new ConnectionProvider(name, ConnectionProvider.SECRET, display == null ? name : display, null, null, null, null, null, false,
                    null, null, List.of(), Map.of(), null, false, null, description, null, null);
        }

        private ConnectionProvider oauth() {
            onlyKeys(OAUTH_KEYS);
            boolean allowHttp = n.path("allow_http").asBoolean(false);
            if (n.has("allow_http") && !n.get("allow_http").isBoolean()) throw bad("allow_http", "expected true or false");
            String preset = text("preset", false);
            Preset p = preset == null ? null : Preset.of(preset, text("tenant", false));
            if (preset != null && p == null) throw bad("preset", "expected \"google\", \"github\" or \"microsoft\", not '" + preset + "'");
            if (n.has("tenant") && (p == null || !preset.equals("microsoft"))) throw bad("tenant", "only for \"preset\": \"microsoft\"");
            String issuer = text("issuer", false);
            String authz = text("authorization_endpoint", false);
            String token = text("token_endpoint", false);
            String revocation = text("revocation_endpoint", false);
            String userinfo = text("userinfo_endpoint", false);
            String introspection = text("introspection_endpoint", false);
            boolean issParameter = false;
            String display = text("display_name", false);
            if (issuer != null) {
                if (p != null) throw bad("issuer", "give either \"preset\" or \"issuer\", not both");
                checkUrl("issuer", issuer, allowHttp);
                Discovery.Metadata m;
                try {
                    m = discovery.discover(issuer);
                } catch (Discovery.Failed f) {
                    throw bad("issuer", f.getMessage());
                }
                if (authz == null) authz = m.authorizationEndpoint();
                if (token == null) token = m.tokenEndpoint();
                if (revocation == null) revocation = m.revocationEndpoint();
                if (userinfo == null) userinfo = m.userinfoEndpoint();
                if (introspection == null) introspection = m.introspectionEndpoint();
                issParameter = m.issParameter();
                if (authz == null) throw bad("issuer", "the metadata of " + issuer + " names no authorization_endpoint");
                if (token == null) throw bad("issuer", "the metadata of " + issuer + " names no token_endpoint");
                if (m.pkceMethods() != null && !m.pkceMethods().contains("S256")) {
                    throw bad("issuer", issuer + " does not support PKCE with S256 (code_challenge_methods_supported), which connections always use");
                }
            } else if (p != null) {
                authz = authz == null ? p.authz : authz;
                token = token == null ? p.token : token;
                revocation = revocation == null ? p.revocation : revocation;
                userinfo = userinfo == null ? p.userinfo : userinfo;
                issuer = p.issuer;
            } else {
                if (authz == null && token == null) {
                    throw bad(null, "give \"issuer\" (discovered), \"preset\" (google, github, microsoft), or \"authorization_endpoint\" and \"token_endpoint\"");
                }
                if (authz == null) throw bad("authorization_endpoint", "missing (with \"token_endpoint\" both are needed)");
                if (token == null) throw bad("token_endpoint", "missing (with \"authorization_endpoint\" both are needed)");
            }
            checkUrl("authorization_endpoint", authz, allowHttp);
            checkUrl("token_endpoint", token, allowHttp);
            String clientId = text("client_id", true);
            if (revocation != null) { // GitHub's names the app: {client_id}
                revocation = revocation.replace("{client_id}", java.net.URLEncoder.encode(clientId, java.nio.charset.StandardCharsets.UTF_8));
                checkUrl("revocation_endpoint", revocation, allowHttp);
            }
            if (userinfo != null) checkUrl("userinfo_endpoint", userinfo, allowHttp);
            if (introspection != null) checkUrl("introspection_endpoint", introspection, allowHttp);
            String secret = text("client_secret", false);
            String auth = text("token_endpoint_auth_method", false);
            if (auth == null) auth = secret == null ? "none" : p != null && p.postAuth ? "client_secret_post" : "client_secret_basic";
            if (!Set.of("client_secret_basic", "client_secret_post", "none").contains(auth)) {
                throw bad("token_endpoint_auth_method", "expected client_secret_basic, client_secret_post or none");
            }
            if (!auth.equals("none") && secret == null) throw bad("client_secret", "missing: " + auth + " needs the client secret");
            List<String> scopes = new ArrayList<>(p == null ? List.of() : p.scopes);
            JsonNode sc = n.path("scopes");
            if (!sc.isMissingNode()) {
                if (!sc.isArray()) throw bad("scopes", "expected an array of strings, e.g. [\"read\", \"write\"]");
                for (JsonNode s : sc) {
                    if (!s.isTextual() || !s.asText().matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}")) throw bad("scopes", "'" + s.asText() + "' is not a scope");
                    if (!scopes.contains(s.asText())) scopes.add(s.asText());
                }
            }
            Map<String, String> params = new LinkedHashMap<>(p == null ? Map.of() : p.params);
            JsonNode ap = n.path("authorize_params");
            if (!ap.isMissingNode()) {
                if (!ap.isObject()) throw bad("authorize_params", "expected an object of name: \"value\"");
                for (Iterator<Map.Entry<String, JsonNode>> it = ap.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isTextual()) throw bad("authorize_params." + e.getKey(), "expected a string");
                    if (Set.of("state", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type", "scope")
                            .contains(e.getKey())) {
                        throw bad("authorize_params." + e.getKey(), "set by the server itself; it cannot be configured");
                    }
                    params.put(e.getKey(), expand("authorize_params." + e.getKey(), e.getValue().asText()));
                }
            }
            boolean rotating = p == null ? true : p.rotating;
            if (n.has("rotating_refresh_tokens")) {
                if (!n.get("rotating_refresh_tokens").isBoolean()) throw bad("rotating_refresh_tokens", "expected true or false");
                rotating = n.get("rotating_refresh_tokens").asBoolean();
            }
            String accountClaim = text("account_claim", false);
            if (accountClaim == null) accountClaim = p == null ? null : p.accountClaim;
            if (display == null) display = p != null ? p.display : hostOf(authz);
            String style = text("revocation_style", false);
            if (style == null) style = p != null && p.revocationStyle != null ? p.revocationStyle : ConnectionProvider.RFC7009;
            if (!style.equals(ConnectionProvider.RFC7009) && !style.equals(ConnectionProvider.GITHUB)) {
                throw bad("revocation_style", "expected \"rfc7009\" or \"github\", not '" + style + "'");
            }
            if (n.has("revocation_style") && revocation == null) throw bad("revocation_style", "needs a \"revocation_endpoint\"");
            return new ConnectionProvider(name, ConnectionProvider.OAUTH, display, authz, token, revocation, userinfo, issuer, issParameter,
                    clientId, secret, scopes, params, auth, rotating, accountClaim, null, introspection, style);
        }

        private String text(String field, boolean required) {
            JsonNode v = n.get(field);
            if (v == null || v.isNull()) {
                if (required) throw bad(field, "missing");
                return null;
            }
            if (!v.isTextual() || v.asText().isBlank()) throw bad(field, "expected a non-empty string");
            return expand(field, v.asText().strip());
        }

        /** {@code ${VAR}} from the environment; an unset variable stops the start. */
        private String expand(String field, String value) {
            Matcher m = VAR.matcher(value);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                String v = variables.apply(m.group(1));
                if (v == null) throw bad(field, "the environment variable " + m.group(1) + " is not set");
                m.appendReplacement(b, Matcher.quoteReplacement(v));
            }
            m.appendTail(b);
            return b.toString();
        }

        private void checkUrl(String field, String url, boolean allowHttp) {
            URI u;
            try {
                u = new URI(url);
            } catch (java.net.URISyntaxException e) {
                throw bad(field, "'" + url + "' is not a URL");
            }
            if (u.getHost() == null || u.getRawFragment() != null) throw bad(field, "'" + url + "' is not an absolute URL without a fragment");
            String scheme = String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT);
            boolean loopback = u.getHost().equals("localhost") || u.getHost().equals("127.0.0.1") || u.getHost().equals("[::1]");
            if (!scheme.equals("https") && !(scheme.equals("http") && (allowHttp || loopback))) {
                throw bad(field, "'" + url + "' must be https (http only for localhost, or with \"allow_http\": true)");
            }
        }
    }

    static String hostOf(String url) {
        try {
            return URI.create(url).getHost();
        } catch (IllegalArgumentException e) {
            return url;
        }
    }

    /** Endpoints and defaults of well-known providers. */
    private record Preset(String display, String authz, String token, String revocation, String userinfo, String issuer, List<String> scopes,
                          Map<String, String> params, boolean rotating, String accountClaim, boolean postAuth, String revocationStyle) {
        static Preset of(String name, String tenant) {
            return switch (name) {
                // Google keeps a refresh token reusable; access_type=offline and prompt=consent make it send one every time
                case "google" -> new Preset("Google", "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
                        "https://oauth2.googleapis.com/revoke", "https://openidconnect.googleapis.com/v1/userinfo", "https://accounts.google.com",
                        List.of("openid", "email"), Map.of("access_type", "offline", "prompt", "consent"), false, "email", false, null);
                // GitHub rotates the refresh tokens of expiring user tokens; its revocation is its own API, not RFC 7009
                case "github" -> new Preset("GitHub", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token",
                        "https://api.github.com/applications/{client_id}/grant", "https://api.github.com/user", null, List.of(), Map.of(), true, "login",
                        true, ConnectionProvider.GITHUB);
                case "microsoft" -> {
                    String t = tenant == null ? "common" : tenant;
                    String base = "https://login.microsoftonline.com/" + t + "/oauth2/v2.0";
                    yield new Preset("Microsoft", base + "/authorize", base + "/token", null, "https://graph.microsoft.com/oidc/userinfo", null,
                            List.of("openid", "email", "offline_access"), Map.of(), true, "email", true, null);
                }
                default -> null;
            };
        }
    }

    /** Authorization-server metadata, read at start with one deadline per document. */
    static class Discovery {
        record Metadata(String authorizationEndpoint, String tokenEndpoint, String revocationEndpoint, String userinfoEndpoint,
                        boolean issParameter, List<String> pkceMethods, String introspectionEndpoint) {}

        static final class Failed extends RuntimeException {
            Failed(String message) {
                super(message, null, false, false);
            }
        }

        private final Duration timeout;

        Discovery(Duration timeout) {
            this.timeout = timeout;
        }

        /** RFC 8414 first (the well-known path inserted before the issuer's path), then OpenID Connect discovery. */
        Metadata discover(String issuer) {
            String trimmed = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
            URI u = URI.create(trimmed);
            String path = u.getRawPath() == null ? "" : u.getRawPath();
            String origin = u.getScheme() + "://" + u.getRawAuthority();
            List<String> urls = List.of(origin + "/.well-known/oauth-authorization-server" + path, trimmed + "/.well-known/openid-configuration");
            String problems = "";
            for (String url : urls) {
                JsonNode doc;
                try {
                    doc = fetch(url);
                } catch (Failed f) {
                    problems += (problems.isEmpty() ? "" : "; ") + url + ": " + f.getMessage();
                    continue;
                }
                String named = doc.path("issuer").asText("");
                if (!named.equals(issuer)) {
                    throw new Failed("the metadata at " + url + " names the issuer '" + named + "'; it must be exactly '" + issuer + "' (check for a trailing slash)");
                }
                List<String> pkce = null;
                if (doc.path("code_challenge_methods_supported").isArray()) {
                    pkce = new ArrayList<>();
                    for (JsonNode m : doc.get("code_challenge_methods_supported")) pkce.add(m.asText());
                }
                return new Metadata(str(doc, "authorization_endpoint"), str(doc, "token_endpoint"), str(doc, "revocation_endpoint"),
                        str(doc, "userinfo_endpoint"), doc.path("authorization_response_iss_parameter_supported").asBoolean(false), pkce,
                        str(doc, "introspection_endpoint"));
            }
            throw new Failed("cannot read the authorization server metadata (" + problems + ")");
        }

        private static String str(JsonNode doc, String field) {
            String v = doc.path(field).asText("");
            return v.isEmpty() ? null : v;
        }

        JsonNode fetch(String url) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
            try {
                HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).header("Accept", "application/json")
                        .header("User-Agent", "mcp-oauth-server").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                byte[] body;
                try (InputStream in = r.body()) {
                    body = in.readNBytes(1024 * 1024 + 1);
                }
                if (r.statusCode() != 200) throw new Failed("HTTP " + r.statusCode());
                if (body.length > 1024 * 1024) throw new Failed("larger than 1 MB");
                JsonNode doc = io.mcpoauth.core.Json.MAPPER.readTree(body);
                if (doc == null || !doc.isObject()) throw new Failed("not a JSON object");
                return doc;
            } catch (IOException e) {
                throw new Failed(e instanceof java.net.http.HttpTimeoutException ? "no answer within " + timeout.toSeconds() + " s"
                        : e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failed("interrupted");
            }
        }
    }
}
