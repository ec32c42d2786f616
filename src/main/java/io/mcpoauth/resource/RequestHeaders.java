package io.mcpoauth.resource;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The HTTP request headers an MCP message came with: every value of a header, by case-insensitive name. */
@FunctionalInterface
public interface RequestHeaders {
    /** Every value of {@code name} (case-insensitive), in order; empty when absent. */
    List<String> values(String name);

    /** The names of the headers sent (any case); by default none are listed. */
    default List<String> names() {
        return List.of();
    }

    /** The only value of {@code name}, or null when absent or sent more than once. */
    default String single(String name) {
        List<String> v = values(name);
        return v.size() == 1 ? v.get(0) : null;
    }

    static RequestHeaders of(HttpServletRequest req) {
        return new RequestHeaders() {
            @Override
            public List<String> values(String name) {
                var e = req.getHeaders(name);
                return e == null ? List.of() : Collections.list(e);
            }

            @Override
            public List<String> names() {
                var e = req.getHeaderNames();
                return e == null ? List.of() : Collections.list(e);
            }
        };
    }

    /** For tests and in-process callers: a map of name to values (names compared case-insensitively). */
    static RequestHeaders of(Map<String, List<String>> headers) {
        Map<String, List<String>> byName = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((k, v) -> byName.merge(k.toLowerCase(Locale.ROOT), List.copyOf(v), (a, b) -> {
            List<String> all = new java.util.ArrayList<>(a);
            all.addAll(b);
            return all;
        }));
        List<String> names = List.copyOf(byName.keySet());
        return new RequestHeaders() {
            @Override
            public List<String> values(String name) {
                return byName.getOrDefault(name, List.of());
            }

            @Override
            public List<String> names() {
                return names;
            }
        };
    }
}
