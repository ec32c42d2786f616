package io.mcpoauth.config;

/**
 * One documented setting: its name, default (null = unset), one line of meaning and whether its value is secret.
 * {@link Settings#ALL} is the single list; {@code .env.example} and the README table are checked against it.
 */
public record Setting(String name, String defaultValue, String meaning, boolean secret) {
    static Setting of(String name, String defaultValue, String meaning) {
        return new Setting(name, defaultValue, meaning, false);
    }

    static Setting secret(String name, String meaning) {
        return new Setting(name, null, meaning, true);
    }
}
