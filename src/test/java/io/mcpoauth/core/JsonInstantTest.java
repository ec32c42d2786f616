package io.mcpoauth.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Json#parseInstant}'s fast path agrees with {@link Instant#parse}, and refuses what it refuses. */
class JsonInstantTest {
    @Test
    void agreesWithInstantParseOnWhatInstantToStringWrites() {
        Random r = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            long seconds = r.nextLong() % 8_000_000_000L + 1_000_000_000L; // years 1970 to about 2250, and before 1970
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> r.nextInt(1000) * 1_000_000;
                case 2 -> r.nextInt(1_000_000) * 1_000;
                default -> r.nextInt(1_000_000_000);
            };
            String text = Instant.ofEpochSecond(seconds, nanos).toString();
            assertEquals(Instant.parse(text), Json.parseInstant(text), text);
        }
    }

    @Test
    void otherFormsGetInstantParsesAnswer() {
        for (String s : List.of("2026-11-23T14:06:19.1Z", "2026-11-23T14:06:19.123456789Z", "2024-02-29T23:59:59Z", "1970-01-01T00:00:00Z",
                "2026-11-23T14:06:19+00:00", "+12026-11-23T14:06:19Z", "0999-01-01T00:00:00Z", "2026-11-23T24:00:00Z", "2026-06-30T23:59:60Z",
                "2026-11-23T14:06:19.Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T25:00:00Z", "2026-11-23T14:06:19.1234567890Z",
                "2026-11-23T14:6:19Z", "2026-11-23 14:06:19Z", "2026-11-23T14:06:1xZ", "2026-11-23T14:06:19z", "", "now")) {
            Object expected;
            try {
                expected = Instant.parse(s);
            } catch (DateTimeParseException e) {
                expected = DateTimeParseException.class;
            }
            if (expected instanceof Instant) assertEquals(expected, Json.parseInstant(s), s);
            else assertThrows(DateTimeParseException.class, () -> Json.parseInstant(s), s);
        }
    }
}
