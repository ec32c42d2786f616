package io.mcpoauth.resource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Something a tool asks the user, through the client, before it can finish (MCP elicitation). A tool returns it in a
 * {@link ToolResult#ask}; the client answers with an {@link Answer} and calls the tool again (see {@link ToolCall}).
 * What reaches which client is described in {@link ToolResult}.
 */
public sealed interface Question {
    /** What the user is asked, shown by the client. Never ask for passwords, keys or other secrets in a form. */
    String message();

    /** A small form: {@code requestedSchema} is a flat object schema of string, number, integer, boolean or enum fields. */
    record Form(String message, Map<String, Object> requestedSchema) implements Question {
        public Form {
            if (message == null || message.isBlank()) throw new IllegalArgumentException("a question needs a message");
            if (requestedSchema == null || !"object".equals(requestedSchema.get("type"))) {
                throw new IllegalArgumentException("requestedSchema must be an object schema");
            }
            requestedSchema = Map.copyOf(requestedSchema);
        }
    }

    /**
     * The user is sent to {@code url} (a page of this server) to do something out of band, e.g. sign in upstream. The
     * URL must hold no secret and no personal data, and must not sign anyone in by itself: the page checks the browser's
     * own session. On the next call the tool checks its own state to see whether it happened.
     */
    record Url(String message, String url) implements Question {
        public Url {
            if (message == null || message.isBlank()) throw new IllegalArgumentException("a question needs a message");
            if (url == null || !(url.startsWith("https://") || url.startsWith("http://"))) throw new IllegalArgumentException("url must be an http(s) URL");
        }
    }

    static Form form(String message, Map<String, Object> requestedSchema) {
        return new Form(message, requestedSchema);
    }

    /** A yes/no question: one required boolean field {@value #CONFIRM}; read it with {@link Answer#confirmed()}. */
    static Form confirm(String message, String label) {
        Map<String, Object> field = new LinkedHashMap<>();
        field.put("type", "boolean");
        field.put("title", label);
        field.put("default", false);
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "object");
        schema.put("properties", Map.of(CONFIRM, field));
        schema.put("required", List.of(CONFIRM));
        return new Form(message, schema);
    }

    static Url url(String message, String url) {
        return new Url(message, url);
    }

    /** The field of {@link #confirm}. */
    String CONFIRM = "confirm";
}
