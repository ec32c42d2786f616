package io.mcpoauth.resource.tools;

import io.mcpoauth.resource.Answer;
import io.mcpoauth.resource.McpTool;
import io.mcpoauth.resource.Question;
import io.mcpoauth.resource.ToolCall;
import io.mcpoauth.resource.ToolResult;
import io.mcpoauth.store.NoteRecord;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code notes_clear}: deletes all of the caller's notes, but only after the user confirmed it: the tool that shows how
 * a tool asks for input ({@link ToolResult#ask}). The first call asks "Delete all N of your notes?"; the client asks
 * the user and calls again with the answer; only a ticked confirmation for the notes the user was shown deletes
 * anything (the question's state names them, so a note added in between means asking again). A client that cannot be
 * asked (legacy MCP, or no elicitation capability) gets an error and nothing is deleted.
 */
public final class NotesClearTool implements McpTool {
    static final String QUESTION = "confirm";
    private final String scope;
    private final Notes notes;

    public NotesClearTool(String requiredScope, Notes notes) {
        this.scope = requiredScope;
        this.notes = notes;
    }

    @Override
    public String name() {
        return "notes_clear";
    }

    @Override
    public String description() {
        return "Deletes all your notes. You are asked to confirm first; nothing is deleted without your confirmation.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("Delete all my notes", false, true, true, false, null);
    }

    @Override
    public ToolResult call(ToolCall call) {
        String userId = call.caller().userId();
        List<NoteRecord.Note> mine = notes.list(userId);
        if (mine.isEmpty()) return ToolResult.of(McpTool.json(outcome(0, "You have no notes: nothing to delete.")));
        String shown = fingerprint(mine);
        Answer answer = call.answer(QUESTION);
        if (answer != null && shown.equals(call.state())) {
            if (!answer.confirmed()) return ToolResult.of(McpTool.json(outcome(0, "Nothing was deleted: you did not confirm.")));
            int deleted = notes.removeAll(userId);
            return ToolResult.of(McpTool.json(outcome(deleted, "Deleted " + deleted + (deleted == 1 ? " note." : " notes."))));
        }
        String n = mine.size() == 1 ? "your 1 note" : "all " + mine.size() + " of your notes";
        return ToolResult.ask(QUESTION, Question.confirm("Delete " + n + "? This cannot be undone.", "Yes, delete " + n))
                .withState(shown);
    }

    /** Which notes the user is asked about: their count and newest id. */
    private static String fingerprint(List<NoteRecord.Note> notes) {
        return notes.size() + ":" + notes.get(notes.size() - 1).id();
    }

    private static Map<String, Object> outcome(int deleted, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("deleted", deleted);
        m.put("message", message);
        return m;
    }
}
