package io.mcpoauth.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mcpoauth.config.ConfigException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one JSON object per line per security event, with {@code ts}, {@code event}, {@code outcome},
 * {@code user}, {@code client_id}, {@code ip} (always present, null when unknown) and event-specific fields. It never
 * holds a token, secret, password or code: callers pass identifiers only (user ids, client ids, grant and key ids),
 * and {@link #write} refuses field names that suggest a secret.
 *
 * <p>With {@code AUDIT_LOG} set, lines are appended to that file (created 0600). The file is opened for each line,
 * so rotating it (move it away, or copy and truncate it) needs no signal; nothing is held open. Otherwise lines go to
 * the logger named {@code audit} at INFO (standard error).
 */
public final class AuditLog {
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-------");
    /** Discards everything (tests, commands with no audit file). */
    public static final AuditLog NONE = new AuditLog(null, false, Clock.systemUTC());

    private static final Logger AUDIT = LoggerFactory.getLogger("audit");
    /** Standard fields are always present (null when unknown), so every line has the same shape. */
    private static final ObjectMapper LINES = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    private static final Set<String> FORBIDDEN = Set.of("token", "access_token", "refresh_token", "code", "password", "secret",
            "client_secret", "key", "api_key", "authorization");
    private static final Set<StandardOpenOption> APPEND = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

    private final Path file;
    private final boolean toLogger;
    private final Clock clock;
    private boolean failing; // guarded by this

    private AuditLog(Path file, boolean toLogger, Clock clock) {
        this.file = file;
        this.toLogger = toLogger;
        this.clock = clock;
    }

    /** Lines to {@code file} (appended; created 0600). Throws {@link ConfigException} naming {@code AUDIT_LOG} when it cannot be written. */
    public static AuditLog toFile(Path file, Clock clock) {
        Path abs = file.toAbsolutePath();
        try {
            if (abs.getParent() != null) Files.createDirectories(abs.getParent());
            open(abs).close();
        } catch (IOException | UnsupportedOperationException e) {
            throw new ConfigException("AUDIT_LOG=" + file + ": cannot be opened for appending (" + describe(e) + ")");
        }
        return new AuditLog(abs, false, clock);
    }

    private static FileChannel open(Path abs) throws IOException {
        if (Files.isSymbolicLink(abs)) throw new IOException("it is a symbolic link");
        FileChannel ch = FileChannel.open(abs, APPEND, PosixFilePermissions.asFileAttribute(MODE));
        try {
            if (!Files.getPosixFilePermissions(abs, LinkOption.NOFOLLOW_LINKS).equals(MODE)) {
                Files.setPosixFilePermissions(abs, MODE);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** Lines to the {@code audit} logger. */
    public static AuditLog toLogger(Clock clock) {
        return new AuditLog(null, true, clock);
    }

    /** False when lines go nowhere (no file, and the {@code audit} logger is below INFO): callers may skip building them. */
    public boolean enabled() {
        return file != null || toLogger && AUDIT.isInfoEnabled();
    }

    /** The file written to, or null. */
    public Path file() {
        return file;
    }

    /**
     * Writes one event. {@code fields} are added after the standard ones, in order; null values are left out.
     *
     * @param outcome {@code success} or {@code failure}
     */
    public void write(String event, String outcome, String user, String clientId, String ip, Map<String, ?> fields) {
        if (!enabled()) return; // nowhere to go: not even built
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("ts", clock.instant().toString());
        line.put("event", event);
        line.put("outcome", outcome);
        line.put("user", user);
        line.put("client_id", clientId);
        line.put("ip", ip);
        if (fields != null) {
            fields.forEach((k, v) -> {
                if (FORBIDDEN.contains(k)) throw new IllegalArgumentException("audit field '" + k + "' would hold a secret");
                if (v != null) line.putIfAbsent(k, v);
            });
        }
        String json;
        try {
            json = LINES.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            LOG.warn("Cannot write audit event {}: {}", event, e.getOriginalMessage());
            return;
        }
        if (toLogger) {
            AUDIT.info(json);
            return;
        }
        byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            try (FileChannel ch = open(file)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                if (failing) {
                    failing = false;
                    LOG.info("Writing the audit log {} works again", file);
                }
            } catch (IOException | RuntimeException e) {
                if (!failing) LOG.error("Cannot append to the audit log {}: {}; audit events are lost until it works again", file, describe(e));
                failing = true;
            }
        }
    }
}
