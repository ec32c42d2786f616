package io.mcpoauth.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The servers file ({@code MCP_SERVERS_FILE}, {@code mcp-servers.json}): the upstream MCP servers the gateway fronts,
 * validated at start. Every mistake is a {@link ConfigException} with one line naming the file and the key, e.g.
 * {@code mcp-servers.json: servers.foo.url: expected an absolute http or https URL}.
 *
 * <pre>
 * {"servers": {
 *    "files":  {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv/data"], "per_user": true},
 *    "search": {"url": "http://127.0.0.1:9000/mcp", "identity": "jwt", "tools": {"deny": ["admin_reset"]}},
 *    "builtin": {"enabled": false}},
 *  "connections": {...}}
 * </pre>
 *
 * {@code ${VAR}} in {@code headers} and {@code env} values is replaced by the server's own setting of that name
 * (environment or {@code .env}); an unset variable is a start error. The top-level {@code connections} key belongs to
 * the connections module and is not read here.
 */
public record McpServers(Path source, boolean builtinEnabled, Map<String, Entry> servers, String connections) {
    public static final String BUILTIN = "builtin";
    /**
     * In {@code args} and {@code cwd} of a {@code per_user} entry: the user's id made file-name safe ({@link #safeUser}),
     * e.g. {@code "args": ["/srv/files/{user}"]} gives each user a directory of their own.
     */
    public static final String USER_PLACEHOLDER = "{user}";

    /** A user id as a file name: every character but A-Z a-z 0-9 . _ - @ becomes '_' ({@code local:alice} gives {@code local_alice}). */
    public static String safeUser(String userId) {
        String s = userId.replaceAll("[^A-Za-z0-9._@-]", "_");
        return s.startsWith(".") ? "_" + s.substring(1) : s;
    }
    public static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,32}");
    private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    /** Headers the gateway sets itself; an entry may not set them. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-length", "content-type", "accept", "mcp-session-id",
            "mcp-protocol-version", "connection", "transfer-encoding", "upgrade", "te", "expect");

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_IDLE = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_CONCURRENT = 32;
    public static final int DEFAULT_MAX_CONCURRENT_PER_USER = 8;
    public static final int DEFAULT_MAX_PROCESSES = 20;

    /** No servers file: only the built-in tools. */
    public static final McpServers NONE = new McpServers(null, true, Map.of());

    /**
     * @param connections the {@code "connections"} object as written (canonical JSON), null when absent: a reload
     *                    tells from it whether they changed (they are read once, at start)
     */
    public McpServers {
        servers = Collections.unmodifiableMap(new TreeMap<>(servers)); // by name: the aggregate order
    }

    public McpServers(Path source, boolean builtinEnabled, Map<String, Entry> servers) {
        this(source, builtinEnabled, servers, null);
    }

    /** How the gateway puts the user's connection token into calls to the upstream. */
    public record Connection(String name, String kind, String target) {
        /** {@code bearer}: {@code Authorization: Bearer}; {@code header}: the header {@code target}; {@code env}: variable {@code target}. */
        public static final List<String> KINDS = List.of("bearer", "header", "env");
    }

    /**
     * One upstream server.
     *
     * @param url                  Streamable HTTP endpoint; null for a stdio server
     * @param command              stdio: the program; null for an HTTP server
     * @param identity             {@code none} or {@code jwt}
     * @param headers              extra request headers (HTTP), {@code ${VAR}} expanded
     * @param allow                tool names offered (empty: all)
     * @param deny                 tool names hidden and refused
     * @param users                who may use it (user ids or usernames); empty with {@code domains} empty: every user
     * @param domains              e-mail domains whose users may use it
     * @param groups               names of the file's {@code "groups"} whose members may use it
     * @param members              the members of those groups (usernames, e-mail addresses or user ids), resolved
     * @param scope                the scope a token needs (null: none beyond a valid token)
     */
    public record Entry(String name, String url, String command, List<String> args, Map<String, String> env, Path cwd, boolean perUser,
                        Duration idleTimeout, int maxProcesses, String identity, Map<String, String> headers, List<String> allow,
                        List<String> deny, List<String> users, List<String> domains, List<String> groups, List<String> members, String scope, Duration timeout, int maxConcurrent,
                        int maxConcurrentPerUser, Connection connection) {
        public boolean stdio() {
            return command != null;
        }

        /** The audience of identity assertions for this server: its URL, or {@code mcp-server:NAME} for stdio. */
        public String audience() {
            return url != null ? url : "mcp-server:" + name;
        }

        /**
         * Whether {@code other} talks to the same upstream in the same way (it may differ in who may use it, its tools,
         * scope and concurrency caps): a reload then keeps the upstream's processes and sessions.
         */
        public boolean sameUpstream(Entry other) {
            return other != null && name.equals(other.name) && java.util.Objects.equals(url, other.url) && java.util.Objects.equals(command, other.command)
                    && args.equals(other.args) && env.equals(other.env) && java.util.Objects.equals(cwd, other.cwd) && perUser == other.perUser
                    && idleTimeout.equals(other.idleTimeout) && maxProcesses == other.maxProcesses && identity.equals(other.identity)
                    && headers.equals(other.headers) && timeout.equals(other.timeout) && java.util.Objects.equals(connection, other.connection);
        }

        /** Whether {@code tool} (the upstream's own name) is offered: in allow (when given) and not in deny. */
        public boolean offers(String tool) {
            return (allow.isEmpty() || allow.contains(tool)) && !deny.contains(tool);
        }

        /** Whether the user may use this server (access.users / access.domains / access.groups; absent: everyone signed in). */
        public boolean admits(String userId, String username) {
            if (users.isEmpty() && domains.isEmpty() && groups.isEmpty()) return true;
            if (users.contains(userId) || username != null && users.contains(username)) return true;
            if (members.contains(userId) || username != null && members.contains(username)) return true;
            if (username == null) return false;
            int at = username.lastIndexOf('@');
            return at > 0 && domains.contains(username.substring(at + 1).toLowerCase(Locale.ROOT));
        }
    }

    /**
     * {@code explicit} is the configured path (null: the default {@code mcp-servers.json}, used only when it exists).
     *
     * @param variables what {@code ${VAR}} expands to (null when unset)
     */
    public static McpServers load(String explicit, Function<String, String> variables, Set<String> scopes) {
        Path path = Path.of(explicit == null || explicit.isBlank() ? "mcp-servers.json" : explicit.strip());
        if (!Files.exists(path)) {
            if (explicit == null || explicit.isBlank()) return NONE;
            throw new ConfigException("MCP_SERVERS_FILE=" + explicit.strip() + ": no such file");
        }
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        return parse(path, text, variables, scopes);
    }

    private static final ObjectMapper STRICT = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    public static McpServers parse(Path source, String text, Function<String, String> variables, Set<String> scopes) {
        return new Parser(source, variables, scopes).parse(text);
    }

    private static final class Parser {
        private final String file;
        private final Path source;
        private final Function<String, String> variables;
        private final Set<String> scopes;

        Parser(Path source, Function<String, String> variables, Set<String> scopes) {
            this.source = source;
            this.file = source.getFileName() == null ? source.toString() : source.toString();
            this.variables = variables;
            this.scopes = scopes;
        }

        ConfigException bad(String key, String problem) {
            return new ConfigException(file + ": " + key + ": " + problem);
        }

        McpServers parse(String text) {
            JsonNode root;
            try {
                root = STRICT.readTree(text);
            } catch (IOException e) {
                String m = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
                var loc = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getLocation() : null;
                throw new ConfigException(file + ": not valid JSON" + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")")
                        + ": " + m);
            }
            if (root == null || !root.isObject()) throw new ConfigException(file + ": expected a JSON object {\"servers\": {...}}");
            keys(root, "", Set.of("servers", "connections", "groups"));
            JsonNode servers = root.path("servers");
            if (servers.isMissingNode()) throw bad("servers", "missing: expected {\"servers\": {\"NAME\": {...}}}");
            if (!servers.isObject()) throw bad("servers", "expected an object of NAME: {...}");
            boolean builtin = true;
            Map<String, Entry> out = new LinkedHashMap<>();
            List<String> mistakes = new ArrayList<>(); // each server is checked on its own: one line for each server with a mistake
            groups(root.get("groups"), mistakes);
            for (Iterator<Map.Entry<String, JsonNode>> it = servers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String name = f.getKey();
                String key = "servers." + name;
                try {
                    if (!NAME.matcher(name).matches()) throw bad(key, "a server name is 1 to 32 of a-z, 0-9 and '-'");
                    if (!f.getValue().isObject()) throw bad(key, "expected an object");
                    if (name.equals(BUILTIN)) {
                        keys(f.getValue(), key, Set.of("enabled"));
                        builtin = bool(f.getValue(), key, "enabled", true);
                        continue;
                    }
                    out.put(name, entry(name, key, f.getValue()));
                } catch (ConfigException e) {
                    mistakes.add(e.getMessage());
                }
            }
            if (!mistakes.isEmpty()) throw new ConfigException(mistakes);
            JsonNode connections = root.get("connections");
            return new McpServers(source, builtin, out, connections == null || connections.isNull() ? null : connections.toString());
        }

        Entry entry(String name, String key, JsonNode n) {
            keys(n, key, Set.of("url", "command", "args", "env", "cwd", "per_user", "idle_timeout_seconds", "max_processes", "identity", "headers",
                    "tools", "access", "scope", "timeout_seconds", "max_concurrent", "max_concurrent_per_user", "connection", "description"));
            String url = string(n, key, "url");
            String command = string(n, key, "command");
            if (url == null && command == null) throw bad(key, "give either \"url\" (Streamable HTTP) or \"command\" (stdio)");
            if (url != null && command != null) throw bad(key, "give either \"url\" or \"command\", not both");
            if (url != null) {
                for (String k : List.of("args", "env", "cwd", "per_user", "idle_timeout_seconds", "max_processes")) {
                    if (n.has(k)) throw bad(key + "." + k, "only for a stdio server (with \"command\"), not with \"url\"");
                }
                url = httpUrl(key + ".url", url);
            } else {
                if (n.has("headers")) throw bad(key + ".headers", "only for an HTTP server (with \"url\"); a stdio server gets \"env\"");
                if (command.isBlank()) throw bad(key + ".command", "must not be empty");
                if (!runnable(command)) {
                    throw bad(key + ".command", command.contains("/") ? "'" + command + "' is not an executable file"
                            : "'" + command + "' is not found in PATH");
                }
            }
            List<String> args = strings(n, key, "args");
            Map<String, String> env = stringMap(n, key + ".env", "env", ENV_NAME, "an environment variable name");
            String cwdText = string(n, key, "cwd");
            Path cwd = null;
            boolean perUser = bool(n, key, "per_user", false);
            if (!perUser) {
                for (String a : args) {
                    if (a.contains(USER_PLACEHOLDER)) throw bad(key + ".args", USER_PLACEHOLDER + " needs \"per_user\": true");
                }
            }
            if (cwdText != null) {
                cwd = Path.of(cwdText);
                if (cwdText.contains(USER_PLACEHOLDER)) {
                    if (!perUser) throw bad(key + ".cwd", USER_PLACEHOLDER + " needs \"per_user\": true");
                } else if (!Files.isDirectory(cwd)) {
                    throw bad(key + ".cwd", "no such directory: " + cwdText);
                }
            }
            Duration idle = Duration.ofSeconds(integer(n, key, "idle_timeout_seconds", 1, 86_400, (int) DEFAULT_IDLE.toSeconds()));
            int maxProcesses = integer(n, key, "max_processes", 1, 1000, perUser ? DEFAULT_MAX_PROCESSES : 1);
            if (!perUser && n.has("max_processes")) throw bad(key + ".max_processes", "only with \"per_user\": true (a shared server runs one process)");
            String identity = string(n, key, "identity");
            if (identity == null) identity = "none";
            if (!identity.equals("none") && !identity.equals("jwt")) throw bad(key + ".identity", "expected \"none\" or \"jwt\"");
            if (identity.equals("jwt") && command != null && !perUser) {
                throw bad(key + ".identity", "\"jwt\" needs \"per_user\": true for a stdio server (a shared process serves every user)");
            }
            Map<String, String> headers = stringMap(n, key + ".headers", "headers", HEADER_NAME, "an HTTP header name");
            for (String h : headers.keySet()) {
                if (RESERVED_HEADERS.contains(h.toLowerCase(Locale.ROOT))) throw bad(key + ".headers." + h, "set by the gateway itself; remove it");
                if (!headers.get(h).chars().allMatch(c -> c == '\t' || c >= 0x20 && c <= 0x7E)) {
                    throw bad(key + ".headers." + h, "the value (after ${VAR} expansion) must be printable ASCII");
                }
                if (h.equalsIgnoreCase("authorization") && identity.equals("jwt")) {
                    throw bad(key + ".headers." + h, "conflicts with \"identity\": \"jwt\", which sends its own Authorization header");
                }
            }
            List<String> allow = List.of();
            List<String> deny = List.of();
            if (n.has("tools")) {
                JsonNode t = n.get("tools");
                if (!t.isObject()) throw bad(key + ".tools", "expected {\"allow\": [...], \"deny\": [...]}");
                keys(t, key + ".tools", Set.of("allow", "deny"));
                allow = strings(t, key + ".tools", "allow");
                deny = strings(t, key + ".tools", "deny");
            }
            List<String> users = List.of();
            List<String> domains = List.of();
            List<String> inGroups = List.of();
            List<String> members = List.of();
            if (n.has("access")) {
                JsonNode a = n.get("access");
                if (!a.isObject()) throw bad(key + ".access", "expected {\"users\": [...], \"domains\": [...], \"groups\": [...]}");
                keys(a, key + ".access", Set.of("users", "domains", "groups"));
                inGroups = strings(a, key + ".access", "groups");
                java.util.LinkedHashSet<String> m = new java.util.LinkedHashSet<>();
                for (String g : inGroups) {
                    List<String> of = groups.get(g);
                    if (of == null && badGroups.contains(g)) continue; // its own line says what is wrong with it
                    if (of == null) {
                        throw bad(key + ".access.groups", "'" + g + "' is not a group of \"groups\"" + (groups.isEmpty() ? " (there are none)"
                                : " (" + String.join(", ", new java.util.TreeSet<>(groups.keySet())) + ")"));
                    }
                    m.addAll(of);
                }
                members = List.copyOf(m);
                users = strings(a, key + ".access", "users");
                List<String> d = new ArrayList<>();
                for (String s : strings(a, key + ".access", "domains")) {
                    String v = s.toLowerCase(Locale.ROOT);
                    if (v.startsWith("@")) v = v.substring(1);
                    if (!v.matches("[a-z0-9.-]+\\.[a-z0-9-]+")) throw bad(key + ".access.domains", "'" + s + "' is not a domain such as example.com");
                    d.add(v);
                }
                domains = List.copyOf(d);
                if (users.isEmpty() && domains.isEmpty() && inGroups.isEmpty()) throw bad(key + ".access", "lists nobody; remove it to let every signed-in user in");
            }
            String scope = string(n, key, "scope");
            if (scope != null) {
                for (String s : scope.trim().split("\\s+")) {
                    if (!scopes.contains(s)) throw bad(key + ".scope", "'" + s + "' is not in OAUTH_SCOPES (" + String.join(" ", scopes) + ")");
                }
                scope = scope.trim();
            }
            Duration timeout = Duration.ofSeconds(integer(n, key, "timeout_seconds", 1, 600, (int) DEFAULT_TIMEOUT.toSeconds()));
            int maxConcurrent = integer(n, key, "max_concurrent", 1, 10_000, DEFAULT_MAX_CONCURRENT);
            int maxPerUser = integer(n, key, "max_concurrent_per_user", 1, 10_000, Math.min(DEFAULT_MAX_CONCURRENT_PER_USER, maxConcurrent));
            if (maxPerUser > maxConcurrent) throw bad(key + ".max_concurrent_per_user", "is larger than max_concurrent (" + maxConcurrent + ")");
            Connection connection = null;
            if (n.has("connection")) {
                JsonNode c = n.get("connection");
                if (!c.isObject()) throw bad(key + ".connection", "expected {\"name\": \"NAME\", \"as\": \"bearer\" | \"header:X-Name\" | \"env:VAR\"}");
                keys(c, key + ".connection", Set.of("name", "as"));
                String cn = string(c, key + ".connection", "name");
                if (cn == null || !NAME.matcher(cn).matches()) throw bad(key + ".connection.name", "expected a connection name (1 to 32 of a-z, 0-9 and '-')");
                String as = string(c, key + ".connection", "as");
                if (as == null) as = url != null ? "bearer" : "env:" + cn.toUpperCase(Locale.ROOT).replace('-', '_') + "_TOKEN";
                connection = connection(key + ".connection.as", as, url != null, perUser);
                connection = new Connection(cn, connection.kind(), connection.target());
                if (connection.kind().equals("bearer") && identity.equals("jwt")) {
                    throw bad(key + ".connection.as", "\"bearer\" conflicts with \"identity\": \"jwt\" (both use Authorization); use \"header:NAME\"");
                }
                if (connection.kind().equals("bearer") && headers.keySet().stream().anyMatch(h -> h.equalsIgnoreCase("authorization"))) {
                    throw bad(key + ".connection.as", "\"bearer\" conflicts with headers.Authorization");
                }
            }
            return new Entry(name, url, command, args, env, cwd, perUser, idle, maxProcesses, identity, headers, allow, deny, users, domains, inGroups, members, scope,
                    timeout, maxConcurrent, maxPerUser, connection);
        }

        /** The file's groups by name (valid ones only; a line in {@code mistakes} for each bad one). */
        private final Map<String, List<String>> groups = new LinkedHashMap<>();
        private final Set<String> badGroups = new java.util.HashSet<>();

        /**
         * {@code "groups": {"NAME": ["alice", "bob@example.com"]}}: members matched as {@code access.users} are (a
         * local username, the username an identity provider gave, e.g. an e-mail address, or a user id).
         */
        void groups(JsonNode n, List<String> mistakes) {
            if (n == null || n.isNull()) return;
            if (!n.isObject()) {
                mistakes.add(file + ": groups: expected an object of NAME: [\"alice\", \"bob@example.com\", ...]");
                return;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String key = "groups." + f.getKey();
                try {
                    if (!GROUP.matcher(f.getKey()).matches()) throw bad(key, "a group name is 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'");
                    List<String> members = strings(n, "groups", f.getKey());
                    if (members.isEmpty()) throw bad(key, "lists nobody; give its members (usernames or e-mail addresses) or remove it");
                    for (String m : members) if (m.isBlank()) throw bad(key, "a member is an empty string");
                    groups.put(f.getKey(), members);
                } catch (ConfigException e) {
                    badGroups.add(f.getKey());
                    mistakes.add(e.getMessage());
                }
            }
        }

        Connection connection(String key, String as, boolean http, boolean perUser) {
            if (as.equals("bearer")) {
                if (!http) throw bad(key, "\"bearer\" is for an HTTP server; a stdio server gets \"env:VAR\"");
                return new Connection(null, "bearer", null);
            }
            if (as.startsWith("header:")) {
                String h = as.substring(7);
                if (!http) throw bad(key, "\"header:...\" is for an HTTP server; a stdio server gets \"env:VAR\"");
                if (!HEADER_NAME.matcher(h).matches() || RESERVED_HEADERS.contains(h.toLowerCase(Locale.ROOT))) throw bad(key, "'" + h + "' is not a header the gateway may set");
                return new Connection(null, "header", h);
            }
            if (as.startsWith("env:")) {
                String v = as.substring(4);
                if (http) throw bad(key, "\"env:...\" is for a stdio server; an HTTP server gets \"bearer\" or \"header:NAME\"");
                if (!perUser) throw bad(key, "\"env:...\" needs \"per_user\": true (a shared process cannot hold one user's token)");
                if (!ENV_NAME.matcher(v).matches()) throw bad(key, "'" + v + "' is not an environment variable name");
                return new Connection(null, "env", v);
            }
            throw bad(key, "expected \"bearer\", \"header:X-Name\" or \"env:VAR\"");
        }

        /** An executable file, or a name found in one of the PATH directories (as the child will be started). */
        boolean runnable(String command) {
            if (command.contains("/")) return Files.isExecutable(Path.of(command));
            String path = variables.apply("PATH");
            if (path == null) path = System.getenv("PATH");
            if (path == null) return false;
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) return true;
            }
            return false;
        }

        void keys(JsonNode n, String key, Set<String> allowed) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw new ConfigException(file + ": " + (key.isEmpty() ? "" : key + ".") + k + ": unknown key (expected one of "
                            + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
                }
            }
        }

        String string(JsonNode n, String key, String field) {
            JsonNode v = n.get(field);
            if (v == null) return null;
            if (!v.isTextual()) throw bad(key + "." + field, "expected a string");
            return v.asText();
        }

        boolean bool(JsonNode n, String key, String field, boolean fallback) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isBoolean()) throw bad(key + "." + field, "expected true or false");
            return v.asBoolean();
        }

        int integer(JsonNode n, String key, String field, int min, int max, int fallback) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) throw bad(key + "." + field, "expected a whole number between " + min + " and " + max);
            return v.asInt();
        }

        List<String> strings(JsonNode n, String key, String field) {
            JsonNode v = n.get(field);
            if (v == null) return List.of();
            if (!v.isArray()) throw bad(key + "." + field, "expected an array of strings");
            List<String> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual()) throw bad(key + "." + field, "expected an array of strings");
                out.add(e.asText());
            }
            return List.copyOf(out);
        }

        Map<String, String> stringMap(JsonNode n, String key, String field, Pattern names, String what) {
            JsonNode v = n.get(field);
            if (v == null) return Map.of();
            if (!v.isObject()) throw bad(key, "expected an object of NAME: \"value\"");
            Map<String, String> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!names.matcher(f.getKey()).matches()) throw bad(key + "." + f.getKey(), "is not " + what);
                if (!f.getValue().isTextual()) throw bad(key + "." + f.getKey(), "expected a string");
                out.put(f.getKey(), expand(key + "." + f.getKey(), f.getValue().asText()));
            }
            return Collections.unmodifiableMap(out);
        }

        String expand(String key, String value) {
            Matcher m = VAR.matcher(value);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String v = variables.apply(m.group(1));
                if (v == null || v.isEmpty()) throw bad(key, "${" + m.group(1) + "} is not set in the environment or .env");
                m.appendReplacement(out, Matcher.quoteReplacement(v));
            }
            m.appendTail(out);
            if (out.toString().chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) throw bad(key, "contains a line break or NUL");
            return out.toString();
        }

        String httpUrl(String key, String url) {
            try {
                URI u = new URI(url);
                String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
                if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getRawFragment() != null
                        || u.getRawUserInfo() != null) {
                    throw bad(key, "expected an absolute http or https URL without user information or fragment, e.g. http://127.0.0.1:9000/mcp");
                }
                return url;
            } catch (URISyntaxException e) {
                throw bad(key, "expected an absolute http or https URL, e.g. http://127.0.0.1:9000/mcp");
            }
        }
    }
}
