package io.mcpoauth.resource.tools;

import io.mcpoauth.core.AuthContext;
import io.mcpoauth.resource.McpTool;
import io.mcpoauth.store.NoteRecord;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code notes_list}: the caller's own notes, oldest first, as JSON {"notes":[{id, text, created_at}]}. */
public final class NotesListTool implements McpTool {
    private final String scope;
    private final Notes notes;

    public NotesListTool(String requiredScope, Notes notes) {
        this.scope = requiredScope;
        this.notes = notes;
    }

    @Override
    public String name() {
        return "notes_list";
    }

    @Override
    public String description() {
        return "Lists your private notes, oldest first.";
    }

    @Override
    public String requiredScope() {
        return scope;
    }

    @Override
    public McpSchema.ToolAnnotations annotations() {
        return new McpSchema.ToolAnnotations("List my notes", true, false, true, false, null);
    }

    @Override
    public CallToolResult call(AuthContext ctx, Map<String, Object> args) {
        List<Map<String, Object>> out = notes.list(ctx.userId()).stream().map(NotesListTool::view).toList();
        return McpTool.json(Map.of("notes", out));
    }

    static Map<String, Object> view(NoteRecord.Note n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", n.id());
        m.put("text", n.text());
        m.put("created_at", n.createdAt() == null ? null : n.createdAt().toString());
        return m;
    }
}
