package io.mcpoauth.resource;

import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.json.schema.jackson2.DefaultJsonSchemaValidator;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * The SDK checks every tool call's arguments against the tool's input schema. Its validator serialises the schema
 * (its cache key) and the arguments on every call; a call with no arguments to a tool whose schema is a plain object
 * with no required property (e.g. {@code whoami}) is valid without that work. Every other call is checked by the
 * SDK's validator.
 */
final class ToolInputValidator implements JsonSchemaValidator {
    /** Schema keywords that cannot make an empty object invalid (with {@code required} empty or absent). */
    private static final Set<String> HARMLESS = Set.of("type", "properties", "additionalProperties", "required", "$schema", "title", "description");

    private final JsonSchemaValidator delegate = new DefaultJsonSchemaValidator();

    @Override
    public ValidationResponse validate(Map<String, Object> schema, Object content) {
        if (content instanceof Map<?, ?> m && m.isEmpty() && acceptsEmptyObject(schema)) return ValidationResponse.asValid("{}");
        return delegate.validate(schema, content);
    }

    @Override
    public ValidationResponse validateSchema(Map<String, Object> schema) {
        return delegate.validateSchema(schema);
    }

    static boolean acceptsEmptyObject(Map<String, Object> schema) {
        if (schema == null || !"object".equals(schema.get("type")) || !HARMLESS.containsAll(schema.keySet())) return false;
        Object required = schema.get("required");
        return required == null || required instanceof Collection<?> c && c.isEmpty();
    }
}
