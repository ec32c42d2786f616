package io.mcpoauth.http;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** HTML escaping, the page shell shared by the login, consent and error pages, and the headers they must carry. */
public final class Html {
    private Html() {}

    /**
     * Headers for every HTML page. The CSP deliberately has no {@code form-action}: Chromium and Safari apply it to
     * the redirect that follows a form POST, so the consent form's 303 to the client's redirect URI would be blocked.
     */
    public static final Map<String, String> SECURITY_HEADERS = headers();

    private static Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-Frame-Options", "DENY");
        // Decision: no form-action (Chromium/Safari enforce it on the post-submit redirect to the client).
        h.put("Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'");
        h.put("Cache-Control", "no-store");
        h.put("Pragma", "no-cache");
        h.put("Referrer-Policy", "no-referrer");
        h.put("X-Content-Type-Options", "nosniff");
        return Collections.unmodifiableMap(h);
    }

    /**
     * Escapes for both element text and quoted attribute values: {@code & < > " ' / = `}. Control characters (other
     * than tab and newline), invisible text-direction controls and line/paragraph separators, which can make a name
     * read as something else (e.g. an RTL override), become U+FFFD. Null gives "".
     */
    public static String escape(String s) {
        if (s == null) return "";
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            String rep;
            switch (s.charAt(i)) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&#39;"; break;
                case '/': rep = "&#47;"; break;
                case '=': rep = "&#61;"; break;
                case '`': rep = "&#96;"; break;
                default: rep = disguising(s.charAt(i)) ? "\uFFFD" : null;
            }
            if (rep != null && b == null) {
                b = new StringBuilder(s.length() + 16);
                b.append(s, 0, i);
            }
            if (b != null) {
                if (rep != null) b.append(rep);
                else b.append(s.charAt(i));
            }
        }
        return b == null ? s : b.toString();
    }

    private static boolean disguising(char c) {
        return (Character.isISOControl(c) && c != '\t' && c != '\n')
                || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069')
                || c == '\u200E' || c == '\u200F' || c == '\u061C' || c == '\u2028' || c == '\u2029';
    }

    private static final String CSS = String.join("",
            ":root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--fg:#111827;--muted:#4b5563;--line:#d1d5db;",
            "--accent:#2563eb;--accent-fg:#fff;--err-bg:#fef2f2;--err-fg:#991b1b}",
            "@media (prefers-color-scheme:dark){:root{--bg:#111827;--card:#1f2937;--fg:#f9fafb;--muted:#d1d5db;",
            "--line:#374151;--accent:#3b82f6;--err-bg:#450a0a;--err-fg:#fecaca}}",
            "*{box-sizing:border-box}",
            "html,body{margin:0;padding:0}",
            "body{min-height:100vh;display:flex;align-items:center;justify-content:center;padding:16px;",
            "background:var(--bg);color:var(--fg);line-height:1.5;font-size:16px;",
            "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}",
            "main{width:100%;max-width:420px;background:var(--card);border:1px solid var(--line);border-radius:12px;",
            "padding:28px 24px;box-shadow:0 1px 3px rgba(0,0,0,.08)}",
            "h1{font-size:1.4rem;margin:0 0 12px}",
            "p{margin:0 0 12px}",
            "main>:last-child{margin-bottom:0}",
            ".muted{color:var(--muted);font-size:.92rem}",
            ".error{background:var(--err-bg);color:var(--err-fg);border-radius:8px;padding:10px 12px;margin:0 0 16px}",
            "label{display:block;font-weight:600;margin:12px 0 4px}",
            "input[type=text],input[type=password]{width:100%;padding:10px 12px;font:inherit;font-size:1rem;border:1px solid var(--line);",
            "border-radius:8px;background:transparent;color:inherit}",
            "button{font:inherit;font-weight:600;padding:10px 16px;border-radius:8px;border:1px solid var(--line);",
            "background:transparent;color:inherit;cursor:pointer;min-height:44px}",
            "button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}",
            ".actions{display:flex;gap:12px;margin-top:20px;flex-wrap:wrap}",
            ".actions button{flex:1 1 140px}",
            "ul{margin:0 0 12px;padding-left:20px}",
            "li{margin:4px 0}",
            "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}",
            "strong{word-break:break-word}");

    /**
     * A complete HTML5 document: {@code title} is escaped here, {@code bodyHtml} must already be safe (built with
     * {@link #escape}). Inline CSS only, no scripts, no external resources.
     */
    public static String page(String title, String bodyHtml) {
        return "<!DOCTYPE html>\n"
                + "<html lang=\"en\">\n<head>\n"
                + "<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<meta name=\"referrer\" content=\"no-referrer\">\n"
                + "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
                + "<title>" + escape(title) + "</title>\n"
                + "<style>" + CSS + "</style>\n"
                + "</head>\n<body>\n<main>\n"
                + (bodyHtml == null ? "" : bodyHtml)
                + "\n</main>\n</body>\n</html>\n";
    }
}
