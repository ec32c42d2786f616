package io.mcpoauth.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict access to query-string or form parameters. RFC 6749 §3.1 forbids repeating a parameter and says one sent
 * without a value is treated as omitted; Javalin silently keeps the first of duplicates, so handlers read through
 * this instead. Repeats are counted on every occurrence, empty ones included.
 */
public final class Params {
    /** More parameters than any OAuth request needs; past this the request is refused. */
    public static final int MAX_PARAMS = 100;

    private final Map<String, List<String>> values;

    private Params(Map<String, List<String>> values) {
        this.values = values;
    }

    /**
     * Parses a raw query string (without {@code ?}) or an application/x-www-form-urlencoded body as UTF-8, with
     * {@code +} meaning space. Malformed %-escapes or invalid UTF-8 give {@link OAuthError} invalid_request.
     */
    public static Params parseUrlEncoded(String raw) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        if (raw != null && !raw.isEmpty()) {
            int count = 0;
            for (String pair : raw.split("&", -1)) {
                if (pair.isEmpty()) continue;
                if (++count > MAX_PARAMS) {
                    throw OAuthError.invalidRequest("The request has more than " + MAX_PARAMS + " parameters.");
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (name.isEmpty()) continue;
                map.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            }
        }
        return new Params(freeze(map));
    }

    /** Wraps an already-decoded multi-map (e.g. Javalin's {@code queryParamMap()}), keeping every value. */
    public static Params of(Map<String, List<String>> multiMap) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        if (multiMap != null) {
            multiMap.forEach((k, v) -> {
                if (k != null && !k.isEmpty()) map.put(k, v == null ? List.of("") : new ArrayList<>(v));
            });
        }
        return new Params(freeze(map));
    }

    /** The first non-empty value of {@code name}, or null when absent or only sent empty. */
    public String first(String name) {
        List<String> vs = values.get(name);
        if (vs == null) return null;
        for (String v : vs) {
            if (v != null && !v.isEmpty()) return v;
        }
        return null;
    }

    /**
     * The value of {@code name}, or null when absent or empty; {@link OAuthError} invalid_request
     * "The parameter NAME was given more than once." when it occurs twice or more.
     */
    public String single(String name) {
        List<String> vs = values.get(name);
        if (vs == null) return null;
        if (vs.size() > 1) throw OAuthError.invalidRequest("The parameter " + name + " was given more than once.");
        String v = vs.get(0);
        return v == null || v.isEmpty() ? null : v;
    }

    /** Like {@link #single} but absent or empty gives invalid_request "The parameter NAME is required." */
    public String required(String name) {
        String v = single(name);
        if (v == null) throw OAuthError.invalidRequest("The parameter " + name + " is required.");
        return v;
    }

    /** True when {@code name} has a non-empty value. */
    public boolean has(String name) {
        return first(name) != null;
    }

    /** The name of the first parameter (in order of first appearance) that occurs more than once, or null. */
    public String duplicated() {
        for (Map.Entry<String, List<String>> e : values.entrySet()) {
            if (e.getValue().size() > 1) return e.getKey();
        }
        return null;
    }

    /** Throws invalid_request naming the first repeated parameter, if any. */
    public void requireNoDuplicates() {
        String d = duplicated();
        if (d != null) throw OAuthError.invalidRequest("The parameter " + d + " was given more than once.");
    }

    /** Every parameter name, in order of first appearance (including those sent with an empty value). */
    public Set<String> names() {
        return values.keySet();
    }

    private static Map<String, List<String>> freeze(Map<String, List<String>> map) {
        map.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return Collections.unmodifiableMap(map);
    }

    private static String decode(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                bytes.write(' ');
            } else if (c == '%') {
                if (i + 2 >= s.length() || hex(s.charAt(i + 1)) < 0 || hex(s.charAt(i + 2)) < 0) {
                    throw OAuthError.invalidRequest("The request contains a malformed percent-escape.");
                }
                bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    b = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.write(b, 0, b.length);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw OAuthError.invalidRequest("The request contains percent-escapes that are not valid UTF-8.");
        }
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
}
