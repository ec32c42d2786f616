package io.mcpoauth.store;

import java.time.Instant;
import java.util.List;

/**
 * The notes of one user, kept in {@code notes.json} under the user's id: a user's notes are found by that key only,
 * so one user can never be handed another's.
 *
 * @param userId the owner ({@code AuthContext.userId()}), also the record's key
 * @param lastId the highest note id handed out so far; ids are never reused
 * @param notes  oldest first
 */
public record NoteRecord(String userId, long lastId, List<Note> notes) {

    /** One note. {@code id} counts up per user from 1. */
    public record Note(long id, String text, Instant createdAt) {}

    public NoteRecord {
        notes = notes == null ? List.of() : List.copyOf(notes);
    }
}
