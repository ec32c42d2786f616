package io.mcpoauth.store.postgres;

import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.NoteStore;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Notes in {@code notes}, one row per note, and {@code note_counters}, one row per user with notes: the counter row
 * is locked while a note is added, so ids count up without gaps or reuse and the caps hold however many instances
 * add at once. Removing a user's notes removes the counter too (numbering starts over, as with the file backend).
 */
final class PgNoteStore implements NoteStore {
    private final Database db;

    PgNoteStore(Database db) {
        this.db = db;
    }

    @Override
    public List<NoteRecord.Note> list(String userId) {
        if (userId == null) return List.of();
        return db.auto("read notes", c -> Sql.list(c, "SELECT note_id, text, created_at FROM notes WHERE user_id = ? ORDER BY note_id",
                rs -> new NoteRecord.Note(rs.getLong("note_id"), rs.getString("text"), Sql.instant(rs, "created_at")), userId));
    }

    @Override
    public NoteRecord.Note add(String userId, String text, Instant now, int maxNotes, long maxBytes) {
        if (userId == null || userId.isEmpty()) throw new IllegalArgumentException("userId is required");
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        return db.tx("add a note", c -> {
            Sql.update(c, "INSERT INTO note_counters (user_id, last_id) VALUES (?, 0) ON CONFLICT (user_id) DO NOTHING", userId);
            long lastId = Sql.one(c, "SELECT last_id FROM note_counters WHERE user_id = ? FOR UPDATE", rs -> rs.getLong(1), userId);
            long[] held = Sql.one(c, "SELECT count(*), coalesce(sum(octet_length(text)), 0) FROM notes WHERE user_id = ?",
                    rs -> new long[] {rs.getLong(1), rs.getLong(2)}, userId);
            if (held[0] >= maxNotes) throw new Full("you already have " + maxNotes + " notes, the most kept per user");
            long total = held[1] + bytes;
            if (total > maxBytes) {
                throw new Full("your notes would take " + total + " bytes; at most " + maxBytes + " bytes of notes are kept per user");
            }
            long id = lastId + 1;
            Sql.update(c, "INSERT INTO notes (user_id, note_id, text, created_at) VALUES (?, ?, ?, ?)", userId, id, text, now);
            Sql.update(c, "UPDATE note_counters SET last_id = ? WHERE user_id = ?", id, userId);
            return new NoteRecord.Note(id, text, Sql.micros(now));
        });
    }

    @Override
    public int removeAll(String userId) {
        if (userId == null) return 0;
        return db.tx("remove notes", c -> {
            int n = Sql.update(c, "DELETE FROM notes WHERE user_id = ?", userId);
            Sql.update(c, "DELETE FROM note_counters WHERE user_id = ?", userId);
            return n;
        });
    }

    @Override
    public List<NoteRecord> all() {
        return db.snapshot("list notes", PgNoteStore::all);
    }

    static List<NoteRecord> all(Connection c) throws SQLException {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Object[] r : Sql.list(c, "SELECT user_id, last_id FROM note_counters ORDER BY user_id COLLATE \"C\"",
                rs -> new Object[] {rs.getString(1), rs.getLong(2)})) {
            counters.put((String) r[0], (Long) r[1]);
        }
        Map<String, List<NoteRecord.Note>> notes = new LinkedHashMap<>();
        for (Object[] r : Sql.list(c, "SELECT user_id, note_id, text, created_at FROM notes ORDER BY user_id COLLATE \"C\", note_id",
                rs -> new Object[] {rs.getString("user_id"), new NoteRecord.Note(rs.getLong("note_id"), rs.getString("text"),
                        Sql.instant(rs, "created_at"))})) {
            notes.computeIfAbsent((String) r[0], k -> new ArrayList<>()).add((NoteRecord.Note) r[1]);
        }
        List<NoteRecord> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : counters.entrySet()) out.add(new NoteRecord(e.getKey(), e.getValue(), notes.getOrDefault(e.getKey(), List.of())));
        return out;
    }

    @Override
    public void put(NoteRecord record) {
        db.tx("store notes", c -> {
            put(c, record);
            return null;
        });
    }

    static void put(Connection c, NoteRecord record) throws SQLException {
        Sql.update(c, "DELETE FROM notes WHERE user_id = ?", record.userId());
        Sql.update(c, "INSERT INTO note_counters (user_id, last_id) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET last_id = excluded.last_id",
                record.userId(), record.lastId());
        for (NoteRecord.Note n : record.notes()) {
            Sql.update(c, "INSERT INTO notes (user_id, note_id, text, created_at) VALUES (?, ?, ?, ?)", record.userId(), n.id(), n.text(), n.createdAt());
        }
    }
}
