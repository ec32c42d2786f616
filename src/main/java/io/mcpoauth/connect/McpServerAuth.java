package io.mcpoauth.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mcpoauth.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway as an MCP OAuth client of an OAuth-protected upstream MCP server (MCP authorization): finds the
 * upstream's authorization server and registers with it.
 *
 * <ol>
 *   <li>{@link #discover}: an unauthenticated request to the upstream's URL must answer 401; its
 *       {@code WWW-Authenticate} {@code resource_metadata} (else the RFC 9728 well-known URL with the URL's path, then
 *       at the root) gives the protected resource metadata, whose {@code resource} must be the upstream's URL; its
 *       first {@code authorization_servers} entry is read as RFC 8414 metadata (then OpenID Connect discovery), and must
 *       support PKCE S256.</li>
 *   <li>{@link #register}: Dynamic Client Registration (RFC 7591) of a public client ({@code none}) with our callback,
 *       or, when the authorization server advertises {@code client_id_metadata_document_supported} and our public URL is
 *       https, the URL of a Client ID Metadata Document of ours as the client id (no registration request at all).</li>
 * </ol>
 * Every request has the deadline given; documents are read up to 1 MB; redirects are not followed.
 */
public final class McpServerAuth {
    /** What {@link #discover} found. */
    public record Found(String resource, String issuer, String authorizationEndpoint, String tokenEndpoint, String revocationEndpoint,
                        String registrationEndpoint, boolean clientIdMetadataDocuments, boolean issParameter, List<String> scopes) {}

    /** How we are known to the authorization server: a client id (from DCR, or the URL of our metadata document). */
    public record Registration(String issuer, String clientId, String clientSecret, String tokenAuth) {}

    public static final class Failed extends RuntimeException {
        Failed(String message) {
            super(message, null, false, false);
        }
    }

    private static final Pattern RESOURCE_METADATA = Pattern.compile("resource_metadata=\"([^\"]{1,2000})\"");
    private static final Pattern SCOPE = Pattern.compile("scope=\"([^\"]{0,2000})\"");

    private final Duration timeout;
    private final ConnectionProviders.Discovery discovery;
    private final HttpClient http;

    public McpServerAuth(Duration timeout) {
        this.timeout = timeout;
        this.discovery = new ConnectionProviders.Discovery(timeout);
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** 401 -> protected resource metadata -> authorization server metadata, for the upstream at {@code url}. */
    public Found discover(String url) {
        URI u = URI.create(url);
        HttpResponse<String> challenge;
        try {
            challenge = http.send(HttpRequest.newBuilder(u).timeout(timeout).header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-11-25")
                    .header("User-Agent", "mcp-oauth-server")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                            + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"mcp-oauth-server\",\"version\":\"1\"}}}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Failed(url + " cannot be reached (" + (e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName()) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted");
        }
        if (challenge.statusCode() != 401) {
            throw new Failed(url + " answered HTTP " + challenge.statusCode() + " without a token, not 401: it does not ask for OAuth");
        }
        String header = String.join(", ", challenge.headers().allValues("WWW-Authenticate"));
        Matcher m = RESOURCE_METADATA.matcher(header);
        Matcher s = SCOPE.matcher(header);
        List<String> challengeScopes = s.find() && !s.group(1).isBlank() ? List.of(s.group(1).trim().split("\\s+")) : List.of();
        String origin = u.getScheme() + "://" + u.getRawAuthority();
        String path = u.getRawPath() == null || u.getRawPath().equals("/") ? "" : u.getRawPath();
        List<String> candidates = m.find() ? List.of(m.group(1))
                : path.isEmpty() ? List.of(origin + "/.well-known/oauth-protected-resource")
                : List.of(origin + "/.well-known/oauth-protected-resource" + path, origin + "/.well-known/oauth-protected-resource");
        JsonNode prm = null;
        String problems = "";
        for (String c : candidates) {
            if (!c.startsWith("https://") && !c.startsWith("http://")) continue;
            try {
                prm = discovery.fetch(c);
                break;
            } catch (ConnectionProviders.Discovery.Failed f) {
                problems += (problems.isEmpty() ? "" : "; ") + c + ": " + f.getMessage();
            }
        }
        if (prm == null) throw new Failed("cannot read the protected resource metadata of " + url + " (" + problems + ")");
        String resource = prm.path("resource").asText("");
        if (!same(resource, url)) throw new Failed("the protected resource metadata of " + url + " names the resource '" + resource + "', not this URL");
        JsonNode servers = prm.path("authorization_servers");
        if (!servers.isArray() || servers.isEmpty() || !servers.get(0).isTextual()) {
            throw new Failed("the protected resource metadata of " + url + " names no authorization_servers");
        }
        String issuer = servers.get(0).asText();
        ConnectionProviders.Discovery.Metadata md;
        JsonNode doc;
        try {
            md = discovery.discover(issuer);
            doc = asDocument(issuer);
        } catch (ConnectionProviders.Discovery.Failed f) {
            throw new Failed("the authorization server of " + url + ": " + f.getMessage());
        }
        if (md.authorizationEndpoint() == null || md.tokenEndpoint() == null) {
            throw new Failed("the metadata of " + issuer + " names no authorization_endpoint or token_endpoint");
        }
        if (md.pkceMethods() == null || !md.pkceMethods().contains("S256")) {
            throw new Failed(issuer + " does not advertise PKCE S256 (code_challenge_methods_supported), which MCP requires");
        }
        List<String> scopes = challengeScopes;
        if (scopes.isEmpty() && prm.path("scopes_supported").isArray()) {
            scopes = new java.util.ArrayList<>();
            for (JsonNode sc : prm.get("scopes_supported")) if (sc.isTextual()) scopes.add(sc.asText());
        }
        String registration = doc.path("registration_endpoint").asText("");
        return new Found(resource, issuer, md.authorizationEndpoint(), md.tokenEndpoint(), md.revocationEndpoint(),
                registration.isEmpty() ? null : registration, doc.path("client_id_metadata_document_supported").asBoolean(false), md.issParameter(),
                List.copyOf(scopes));
    }

    /** The authorization server's metadata document as JSON (the same order as the discovery: RFC 8414, then OIDC). */
    private JsonNode asDocument(String issuer) {
        String trimmed = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        URI u = URI.create(trimmed);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        try {
            return discovery.fetch(u.getScheme() + "://" + u.getRawAuthority() + "/.well-known/oauth-authorization-server" + path);
        } catch (ConnectionProviders.Discovery.Failed f) {
            return discovery.fetch(trimmed + "/.well-known/openid-configuration");
        }
    }

    /**
     * How we become a client of {@code found}'s authorization server: the Client ID Metadata Document at
     * {@code metadataUrl} when the server supports them and the URL is https (nothing is sent), else DCR with
     * {@code callbackUrl} as the only redirect URI.
     */
    public Registration register(Found found, String callbackUrl, String metadataUrl) {
        if (found.clientIdMetadataDocuments() && metadataUrl != null && metadataUrl.startsWith("https://")) {
            return new Registration(found.issuer(), metadataUrl, null, "none");
        }
        if (found.registrationEndpoint() == null) {
            throw new Failed(found.issuer() + " offers neither Dynamic Client Registration nor Client ID Metadata Documents (with an https PUBLIC_URL)");
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("client_name", "mcp-oauth-server gateway");
        body.putArray("redirect_uris").add(callbackUrl);
        body.putArray("grant_types").add("authorization_code").add("refresh_token");
        body.putArray("response_types").add("code");
        body.put("token_endpoint_auth_method", "none");
        if (!found.scopes().isEmpty()) body.put("scope", String.join(" ", found.scopes()));
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(found.registrationEndpoint())).timeout(timeout)
                    .header("Content-Type", "application/json").header("Accept", "application/json").header("User-Agent", "mcp-oauth-server")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
            byte[] bytes;
            try (InputStream in = r.body()) {
                bytes = in.readNBytes(64 * 1024 + 1);
            }
            JsonNode doc = bytes.length > 64 * 1024 ? null : Json.MAPPER.readTree(bytes);
            if (r.statusCode() != 201 && r.statusCode() != 200) {
                String error = doc == null ? "" : doc.path("error").asText("") + " " + doc.path("error_description").asText("");
                throw new Failed(found.issuer() + " refused the client registration (HTTP " + r.statusCode() + (error.isBlank() ? "" : ": " + clip(error.trim())) + ")");
            }
            String clientId = doc == null ? "" : doc.path("client_id").asText("");
            if (clientId.isEmpty()) throw new Failed(found.issuer() + " answered the registration without a client_id");
            String secret = doc.path("client_secret").asText("");
            String auth = doc.path("token_endpoint_auth_method").asText("none");
            return new Registration(found.issuer(), clientId, secret.isEmpty() ? null : secret, secret.isEmpty() ? "none" : auth);
        } catch (IOException e) {
            throw new Failed("the client registration at " + found.registrationEndpoint() + " failed (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted");
        }
    }

    /** The Client ID Metadata Document we host for a connection (its URL is the client id). */
    public static ObjectNode clientMetadataDocument(String metadataUrl, String callbackUrl) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("client_id", metadataUrl);
        d.put("client_name", "mcp-oauth-server gateway");
        d.putArray("redirect_uris").add(callbackUrl);
        d.putArray("grant_types").add("authorization_code").add("refresh_token");
        d.putArray("response_types").add("code");
        d.put("token_endpoint_auth_method", "none");
        return d;
    }

    private static boolean same(String a, String b) {
        return strip(a).equals(strip(b));
    }

    private static String strip(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    private static String clip(String s) {
        String t = new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).replaceAll("[\\p{Cntrl}]", " ");
        return t.length() <= 200 ? t : t.substring(0, 200) + "...";
    }
}
