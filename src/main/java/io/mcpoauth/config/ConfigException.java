package io.mcpoauth.config;

/** A configuration problem a person can fix; the message is one line and never contains a secret value. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
