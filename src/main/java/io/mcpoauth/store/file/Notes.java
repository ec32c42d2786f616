package io.mcpoauth.store.file;

import io.mcpoauth.store.NoteRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-user notes, durable in {@code notes.json} (one line per user). Every method takes the owner's user id and
 * touches only that user's record. Text is 1 to {@value #MAX_TEXT} characters (code points, not blank); a user keeps
 * at most {@value #MAX_NOTES} notes.
 */
public final class Notes {
    public static final String FILE = "notes.json";
    public static final int MAX_TEXT = 2000;
    public static final int MAX_NOTES = 1000;

    private final DurableMap<NoteRecord> map;

    public Notes(FileStore store) {
        this.map = store.map(FILE, "notes", NoteRecord.class, SnapshotFormat.Layout.ONE_LINE);
    }

    /** A note that cannot be added; the message is safe to show to the caller. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** The user's notes, oldest first; empty when there are none. */
    public List<NoteRecord.Note> list(String userId) {
        NoteRecord r = userId == null ? null : map.get(userId);
        return r == null ? List.of() : r.notes();
    }

    public int count(String userId) {
        return list(userId).size();
    }

    /**
     * Adds a note for {@code userId}; returns once it is durable.
     *
     * @throws Refused when the text is empty, blank or too long, or the user already has {@value #MAX_NOTES} notes
     * @throws StoreException (unavailable) when the write could not be made durable
     */
    public NoteRecord.Note add(String userId, String text, Instant now) {
        if (userId == null || userId.isEmpty()) throw new IllegalArgumentException("userId is required");
        check(text);
        return map.update(tx -> {
            NoteRecord cur = tx.get(userId);
            List<NoteRecord.Note> notes = new ArrayList<>(cur == null ? List.of() : cur.notes());
            if (notes.size() >= MAX_NOTES) throw new Refused("you already have " + MAX_NOTES + " notes, the most kept per user");
            long id = (cur == null ? 0 : cur.lastId()) + 1;
            NoteRecord.Note note = new NoteRecord.Note(id, text, now);
            notes.add(note);
            tx.put(userId, new NoteRecord(userId, id, notes));
            return note;
        });
    }

    /** Removes every note of {@code userId} (account deletion); returns how many were removed. */
    public int removeAll(String userId) {
        if (userId == null || map.get(userId) == null) return 0;
        return map.update(tx -> {
            NoteRecord cur = tx.get(userId);
            if (cur == null) return 0;
            tx.remove(userId);
            return cur.notes().size();
        });
    }

    /** Validates a note's text; throws {@link Refused} with a message for the caller. */
    public static void check(String text) {
        if (text == null || text.isBlank()) throw new Refused("text must be 1 to " + MAX_TEXT + " characters and not blank");
        int n = text.codePointCount(0, text.length());
        if (n > MAX_TEXT) throw new Refused("text is " + n + " characters; at most " + MAX_TEXT + " are allowed");
    }

    DurableMap<NoteRecord> map() {
        return map;
    }
}
