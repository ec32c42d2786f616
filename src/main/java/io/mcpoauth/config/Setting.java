package io.mcpoauth.config;

/**
 * One documented setting: its name, default (null = unset), one line of meaning and whether its value is secret.
 * Declared in {@link Settings}, grouped by the module that reads it ({@link Settings#MODULES}); {@link Settings#ALL} is
 * the single list, and {@code .env.example} and the README table are checked against it.
 */
public record Setting(String name, String defaultValue, String meaning, boolean secret) {
    static Setting of(String name, String defaultValue, String meaning) {
        return new Setting(name, defaultValue, meaning, false);
    }

    static Setting secret(String name, String meaning) {
        return new Setting(name, null, meaning, true);
    }
}
