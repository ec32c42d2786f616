package io.mcpoauth.store.memory;

import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.NoteStore;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** {@link NoteStore} over a {@link RecordMap} holding one {@link NoteRecord} per user. */
public final class MapNoteStore implements NoteStore {
    private final RecordMap<NoteRecord> map;

    public MapNoteStore(RecordMap<NoteRecord> map) {
        this.map = map;
    }

    @Override
    public List<NoteRecord.Note> list(String userId) {
        NoteRecord r = userId == null ? null : map.get(userId);
        return r == null ? List.of() : r.notes();
    }

    @Override
    public NoteRecord.Note add(String userId, String text, Instant now, int maxNotes, long maxBytes) {
        if (userId == null || userId.isEmpty()) throw new IllegalArgumentException("userId is required");
        long bytes = utf8Length(text);
        return map.update(tx -> {
            NoteRecord cur = tx.get(userId);
            List<NoteRecord.Note> notes = new ArrayList<>(cur == null ? List.of() : cur.notes());
            if (notes.size() >= maxNotes) throw new Full("you already have " + maxNotes + " notes, the most kept per user");
            long total = bytes;
            for (NoteRecord.Note n : notes) total += utf8Length(n.text());
            if (total > maxBytes) {
                throw new Full("your notes would take " + total + " bytes; at most " + maxBytes + " bytes of notes are kept per user");
            }
            long id = (cur == null ? 0 : cur.lastId()) + 1;
            NoteRecord.Note note = new NoteRecord.Note(id, text, now);
            notes.add(note);
            tx.put(userId, new NoteRecord(userId, id, notes));
            return note;
        });
    }

    static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public int removeAll(String userId) {
        if (userId == null || map.get(userId) == null) return 0;
        return map.update(tx -> {
            NoteRecord cur = tx.get(userId);
            if (cur == null) return 0;
            tx.remove(userId);
            return cur.notes().size();
        });
    }

    @Override
    public List<NoteRecord> all() {
        return Sorted.byKey(map.values(), NoteRecord::userId);
    }

    @Override
    public void put(NoteRecord record) {
        map.update(tx -> {
            tx.put(record.userId(), record);
            return null;
        });
    }
}
