package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/** Per-user notes: every method takes the owner's user id and touches only that user's notes. */
public interface NoteStore {
    /** The user's notes, oldest first. */
    List<NoteRecord.Note> list(String userId);

    /**
     * Appends a note with the next id of that user.
     *
     * @throws Full when the user would have more than {@code maxNotes} notes or more than {@code maxBytes} bytes of
     *              text (UTF-8) in all; nothing is stored then
     */
    NoteRecord.Note add(String userId, String text, Instant now, int maxNotes, long maxBytes);

    /** Removes every note of the user; returns how many. */
    int removeAll(String userId);

    /** Every user's notes, sorted by user (exports). */
    List<NoteRecord> all();

    /** Replaces a user's notes and counter with {@code record}'s (imports). */
    void put(NoteRecord record);

    /** The user's notes would exceed a limit; the message is safe to show. */
    final class Full extends RuntimeException {
        public Full(String message) {
            super(message, null, false, false);
        }
    }
}
