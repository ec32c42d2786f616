package io.mcpoauth.oauth;

import io.mcpoauth.http.OAuthError;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Scope strings (RFC 6749 §3.3): space-delimited, order kept, duplicates dropped. */
public final class Scopes {
    private Scopes() {}

    /** Splits on single spaces, ignoring empty runs; null or blank gives an empty set. Insertion-ordered, unmodifiable. */
    public static Set<String> parse(String scope) {
        Set<String> out = new LinkedHashSet<>();
        if (scope != null) {
            for (String s : scope.split(" ")) {
                if (!s.isEmpty()) out.add(s);
            }
        }
        return Collections.unmodifiableSet(out);
    }

    /** The scopes joined by single spaces, in iteration order; empty string for null or empty. */
    public static String format(Set<String> scopes) {
        return scopes == null ? "" : String.join(" ", scopes);
    }

    /**
     * Throws {@link OAuthError} with {@code errorCode} (invalid_scope at /authorize and /token,
     * invalid_client_metadata at /register) naming the requested scopes that are not in {@code supported}.
     */
    public static void requireSupported(Set<String> requested, Set<String> supported, String errorCode) {
        if (requested == null || requested.isEmpty()) return;
        List<String> unknown = new ArrayList<>();
        for (String s : requested) {
            if (supported == null || !supported.contains(s)) unknown.add(s);
        }
        if (unknown.isEmpty()) return;
        List<String> shown = new ArrayList<>();
        for (String s : unknown.subList(0, Math.min(5, unknown.size()))) {
            shown.add("'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'");
        }
        String names = String.join(", ", shown) + (unknown.size() > 5 ? " and " + (unknown.size() - 5) + " more" : "");
        String verb = unknown.size() == 1 ? "The scope " + names + " is" : "The scopes " + names + " are";
        String known = supported == null || supported.isEmpty() ? "none" : String.join(" ", supported);
        throw new OAuthError(errorCode, verb + " not supported by this server. Supported scopes: " + known + ".");
    }
}
