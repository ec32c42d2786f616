package io.mcpoauth.store.postgres;

import io.mcpoauth.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code DATABASE_URL} in libpq's URI form, {@code postgresql://[user[:password]@]host[:port][,host2[:port2]]/db[?k=v&...]},
 * turned into what the JDBC driver wants: a JDBC URL with only the hosts and the database, and {@link Properties} with
 * everything else, so the password is never part of a string that could be logged ({@link #redacted} is the form for
 * messages). pgjdbc does not take this form itself (it would resolve {@code user@host} as a host name).
 *
 * <p>Parameters are checked against a list, because the driver silently ignores properties it does not know (a
 * misspelt {@code sslmod=verify-full} would quietly mean {@code prefer}). libpq names are mapped to the driver's;
 * the driver's own names are accepted as they are. Our defaults (timeouts, application name) go under whatever the
 * URL sets; a given {@code options} is kept and ours are appended to it.
 */
record DatabaseUrl(String jdbcUrl, Properties properties, String redacted, String schema) {
    /** Where the tables go unless the URL names a schema ({@code currentSchema}). */
    static final String DEFAULT_SCHEMA = "mcp_oauth";

    /** libpq URI parameter -> pgjdbc property. */
    private static final Map<String, String> PARAMS = new LinkedHashMap<>();

    static {
        PARAMS.put("user", "user");
        PARAMS.put("password", "password");
        PARAMS.put("sslmode", "sslmode"); // disable|allow|prefer|require|verify-ca|verify-full, the same words in both
        PARAMS.put("sslrootcert", "sslrootcert");
        PARAMS.put("sslcert", "sslcert");
        PARAMS.put("sslkey", "sslkey"); // pgjdbc wants PKCS-8 DER (.pk8) or PKCS-12 (.p12), not libpq's PEM key
        PARAMS.put("sslpassword", "sslpassword");
        PARAMS.put("connect_timeout", "connectTimeout"); // seconds in both
        PARAMS.put("application_name", "ApplicationName");
        PARAMS.put("options", "options");
        PARAMS.put("target_session_attrs", "targetServerType");
        for (String p : List.of("connectTimeout", "socketTimeout", "loginTimeout", "tcpKeepAlive", "ApplicationName", "targetServerType",
                "prepareThreshold", "sslfactory", "sslhostnameverifier", "gssEncMode", "channelBinding", "currentSchema")) {
            PARAMS.put(p, p);
        }
    }

    /** Our defaults: every wait on the database is bounded, and a slow statement is cancelled by the server first. */
    static final Map<String, String> DEFAULTS = Map.of(
            "connectTimeout", "5",
            "loginTimeout", "10",
            "socketTimeout", "10",
            "tcpKeepAlive", "true",
            "ApplicationName", "mcp-oauth-server");
    /** Server-side limits, appended to {@code options}: statement_timeout stays below socketTimeout, so a slow statement is cancelled (503) while the connection survives. */
    static final String SERVER_OPTIONS = "-c statement_timeout=5000 -c lock_timeout=3000 -c idle_in_transaction_session_timeout=30000";

    /**
     * @param password used when the URL holds none ({@code DATABASE_PASSWORD}); may be null
     * @throws ConfigException naming what is wrong (never showing the password)
     */
    static DatabaseUrl parse(String url, String password) {
        if (url == null || url.isBlank()) throw new ConfigException("DATABASE_URL is empty; expected postgresql://user@host:5432/database");
        String rest;
        if (url.startsWith("postgresql://")) rest = url.substring("postgresql://".length());
        else if (url.startsWith("postgres://")) rest = url.substring("postgres://".length());
        else throw bad("must start with postgresql:// (e.g. postgresql://user@host:5432/database)");

        int q = rest.indexOf('?');
        String query = q < 0 ? "" : rest.substring(q + 1);
        if (q >= 0) rest = rest.substring(0, q);
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash + 1);

        Properties props = new Properties();
        int at = authority.lastIndexOf('@'); // the last one: a password may hold an unencoded '@'
        String hostspec = at < 0 ? authority : authority.substring(at + 1);
        if (at >= 0) {
            String userinfo = authority.substring(0, at);
            int colon = userinfo.indexOf(':');
            String user = decode(colon < 0 ? userinfo : userinfo.substring(0, colon));
            if (!user.isEmpty()) props.setProperty("user", user);
            if (colon >= 0) props.setProperty("password", decode(userinfo.substring(colon + 1)));
        }
        List<String> hosts = new ArrayList<>();
        for (String h : hostspec.split(",", -1)) hosts.add(hostPort(h));
        String db = decode(path);
        if (db.isEmpty()) throw bad("names no database (postgresql://host:5432/DATABASE)");

        for (String pair : query.isEmpty() ? new String[0] : query.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            String prop = PARAMS.get(k);
            if (prop == null) throw bad("has an unknown parameter '" + k + "' (known: " + String.join(", ", PARAMS.keySet()) + ")");
            props.setProperty(prop, value(prop, v));
        }
        if (props.getProperty("user") == null) throw bad("names no user (postgresql://USER@host/database)");
        String sslmode = props.getProperty("sslmode");
        if (sslmode != null && !List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full").contains(sslmode)) {
            throw bad("has sslmode=" + sslmode + "; expected disable, allow, prefer, require, verify-ca or verify-full");
        }
        if (props.getProperty("password") == null && password != null && !password.isEmpty()) props.setProperty("password", password);
        String schema = props.getProperty("currentSchema", DEFAULT_SCHEMA);
        if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw bad("has currentSchema=" + schema + "; expected a plain lower-case name (letters, digits, _)");
        }
        props.setProperty("currentSchema", schema);
        for (Map.Entry<String, String> d : DEFAULTS.entrySet()) props.putIfAbsent(d.getKey(), d.getValue());
        String options = props.getProperty("options");
        props.setProperty("options", options == null || options.isBlank() ? SERVER_OPTIONS : options + " " + SERVER_OPTIONS);

        String jdbc = "jdbc:postgresql://" + String.join(",", hosts) + "/" + URLEncoder.encode(db, StandardCharsets.UTF_8);
        StringBuilder display = new StringBuilder("postgresql://");
        display.append(URLEncoder.encode(props.getProperty("user"), StandardCharsets.UTF_8));
        if (props.containsKey("password")) display.append(":***");
        display.append('@').append(String.join(",", hosts)).append('/').append(db);
        return new DatabaseUrl(jdbc, props, display.toString(), schema);
    }

    private static ConfigException bad(String what) {
        return new ConfigException("DATABASE_URL " + what);
    }

    private static String value(String prop, String v) {
        if (prop.equals("targetServerType")) {
            // libpq's target_session_attrs words -> pgjdbc's
            return switch (v) {
                case "read-write", "primary" -> "primary";
                case "read-only", "standby" -> "secondary";
                case "prefer-standby" -> "preferSecondary";
                default -> v;
            };
        }
        return v;
    }

    /** host[:port] or [v6]:port -> the same, the port defaulted to 5432 and checked. */
    private static String hostPort(String h) {
        if (h.isEmpty()) throw bad("names no host: unix sockets are not supported, use host:port");
        String host;
        String port = "5432";
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            if (close < 0) throw bad("has an unclosed [ in its host");
            host = h.substring(0, close + 1);
            if (close + 1 < h.length()) {
                if (h.charAt(close + 1) != ':') throw bad("host " + h + " is malformed");
                port = h.substring(close + 2);
            }
        } else {
            int colon = h.lastIndexOf(':');
            host = colon < 0 ? h : h.substring(0, colon);
            if (colon >= 0) port = h.substring(colon + 1);
        }
        host = decode(host);
        if (host.isEmpty() || host.startsWith("/")) throw bad("names no host: unix sockets are not supported, use host:port");
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 1 || p > 65535) throw bad("port '" + port + "' is not a port number");
        return host + ":" + p;
    }

    /** Percent-decoding as in URIs: '+' stays '+' (URLDecoder would make it a space, breaking passwords). */
    static String decode(String s) {
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%') {
                int j = i;
                while (j < s.length() && s.charAt(j) != '%') j++;
                out.writeBytes(s.substring(i, j).getBytes(StandardCharsets.UTF_8));
                i = j - 1;
                continue;
            }
            int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
            int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
            if (hi < 0 || lo < 0) throw bad("has a bad %-escape");
            out.write(hi * 16 + lo);
            i += 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return redacted;
    }
}
