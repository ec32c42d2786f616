package io.mcpoauth.resource;

import java.util.Map;

/**
 * The client's answer to a {@link Question}: the user accepted (with the form's {@code content}), declined, or
 * cancelled (dismissed it). For a URL question "accept" only means the user agreed to open the page, not that they
 * finished there.
 */
public record Answer(String action, Map<String, Object> content) {
    public Answer {
        content = content == null ? Map.of() : Map.copyOf(content);
    }

    public boolean accepted() {
        return "accept".equals(action);
    }

    public boolean declined() {
        return "decline".equals(action);
    }

    public boolean cancelled() {
        return !accepted() && !declined();
    }

    /** A field of an accepted form, or null. */
    public Object value(String field) {
        return accepted() ? content.get(field) : null;
    }

    /** True only for an accepted {@link Question#confirm} whose box was ticked. */
    public boolean confirmed() {
        return Boolean.TRUE.equals(value(Question.CONFIRM));
    }
}
