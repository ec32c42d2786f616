package io.mcpoauth.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Raw configuration values: the process environment first, then a {@code .env} file (the environment wins). */
public final class Env {
    private Env() {}

    /** Merges {@code dotEnv} (if it exists) under {@code environment}. */
    public static Map<String, String> load(Map<String, String> environment, Path dotEnv) {
        Map<String, String> merged = new HashMap<>();
        if (dotEnv != null && Files.isRegularFile(dotEnv)) {
            merged.putAll(parseDotEnv(dotEnv));
        }
        merged.putAll(environment);
        return merged;
    }

    /** Parses KEY=VALUE lines; '#' comments, blank lines, optional 'export ' and single or double quotes. */
    public static Map<String, String> parseDotEnv(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        Map<String, String> values = new HashMap<>();
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (line.startsWith("export ")) line = line.substring(7).strip();
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(file + " line " + lineNo + ": expected KEY=VALUE");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            } else {
                int hash = value.indexOf(" #");
                if (hash >= 0) value = value.substring(0, hash).strip();
            }
            values.put(key, value);
        }
        return values;
    }
}
