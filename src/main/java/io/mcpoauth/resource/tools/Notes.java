package io.mcpoauth.resource.tools;

import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.NoteStore;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * The rules of the notes tools, over the {@link NoteStore}: a note is 1 to {@value #MAX_TEXT} characters and at most
 * {@value #MAX_NOTE_BYTES} bytes (UTF-8), not blank; a user keeps at most {@value #MAX_NOTES} notes and
 * {@value #MAX_TOTAL_BYTES} bytes of notes in all.
 */
public final class Notes {
    public static final int MAX_TEXT = 2000;
    public static final int MAX_NOTE_BYTES = 4000;
    public static final int MAX_NOTES = 1000;
    public static final int MAX_TOTAL_BYTES = 256 * 1024;

    private final NoteStore store;

    public Notes(NoteStore store) {
        this.store = store;
    }

    /** A note that cannot be added; the message is safe to show to the caller. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    public List<NoteRecord.Note> list(String userId) {
        return store.list(userId);
    }

    public int count(String userId) {
        return list(userId).size();
    }

    /**
     * Adds a note for {@code userId}; returns once it is durable.
     *
     * @throws Refused when the text breaks a rule or the user's notes are full
     * @throws io.mcpoauth.store.StoreException (unavailable) when the write could not be made durable
     */
    public NoteRecord.Note add(String userId, String text, Instant now) {
        check(text);
        try {
            return store.add(userId, text, now, MAX_NOTES, MAX_TOTAL_BYTES);
        } catch (NoteStore.Full e) {
            throw new Refused(e.getMessage());
        }
    }

    public int removeAll(String userId) {
        return store.removeAll(userId);
    }

    /** Validates a note's text; throws {@link Refused} with a message for the caller. */
    public static void check(String text) {
        if (text == null || text.isBlank()) throw new Refused("text must be 1 to " + MAX_TEXT + " characters and not blank");
        int n = text.codePointCount(0, text.length());
        if (n > MAX_TEXT) throw new Refused("text is " + n + " characters; at most " + MAX_TEXT + " are allowed");
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NOTE_BYTES) throw new Refused("text is " + bytes + " bytes in UTF-8; at most " + MAX_NOTE_BYTES + " are allowed");
    }
}
