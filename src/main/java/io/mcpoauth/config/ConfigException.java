package io.mcpoauth.config;

import java.util.List;

/**
 * A configuration problem a person can fix; each line of the message is one mistake (usually there is one) and never
 * contains a secret value.
 */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message, null, false, false);
    }

    /** Several mistakes found together, one line each. */
    public ConfigException(List<String> lines) {
        super(String.join("\n", lines), null, false, false);
    }

    /** One line per mistake. */
    public List<String> lines() {
        return List.of(getMessage().split("\n"));
    }
}
