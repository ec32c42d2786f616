package io.mcpoauth.resource.tools;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.resource.McpTool;
import io.mcpoauth.store.NoteRecord;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code notes_add}: saves a note (argument {@code text}, 1-2000 characters) for the caller only. */
public final class NotesAddTool implements McpTool {
    private final String scope;
    private final Notes notes;
    private final Clock clock;

    public NotesAddTool(String requiredScope, Notes notes, Clock clock) {
        this.scope = requiredScope;
        this.notes = notes;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "notes_add";
    }

    @Override
    public String description() {
        return "Saves a private note for you (1-" + Notes.MAX_TEXT + " characters). Only you can list your notes.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public Map<String, Object> inputSchema() {
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("type", "string");
        text.put("minLength", 1);
        text.put("maxLength", Notes.MAX_TEXT);
        text.put("description", "the note");
        return McpTool.objectSchema(Map.of("text", text), "text");
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("Add a note", false, false, false, false, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        Object text = args.get("text");
        if (!(text instanceof String s)) return McpTool.error("argument 'text' (a string of 1-" + Notes.MAX_TEXT + " characters) is required");
        NoteRecord.Note note;
        try {
            note = notes.add(ctx.userId(), s, clock.instant());
        } catch (Notes.Refused e) {
            return McpTool.error(e.getMessage());
        }
        return McpTool.json(NotesListTool.view(note));
    }
}
