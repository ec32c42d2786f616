package io.mcpoauth;

/** slf4j-simple set-up; must run before the first logger is created. */
final class Logging {
    private Logging() {}

    static void configure(String level) {
        set("org.slf4j.simpleLogger.defaultLogLevel", level);
        set("org.slf4j.simpleLogger.showDateTime", "true");
        set("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        set("org.slf4j.simpleLogger.showThreadName", "false");
        set("org.slf4j.simpleLogger.showShortLogName", "true");
        set("org.slf4j.simpleLogger.levelInBrackets", "true");
        // Libraries speak only when something is wrong; the MCP SDK logs client details on every initialize.
        set("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
        set("org.slf4j.simpleLogger.log.io.javalin", "warn");
        set("org.slf4j.simpleLogger.log.io.modelcontextprotocol", "warn");
        set("org.slf4j.simpleLogger.log.com.github.scribejava", "warn");
        // The pool would log every broken connection with a stack trace during a database outage; the store logs the
        // outage once and the recovery (store.postgres.Database).
        set("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "error");
    }

    private static void set(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
