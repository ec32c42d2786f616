package io.mcpoauth.mcp;

import io.mcpoauth.config.Settings;
import io.mcpoauth.store.Notes;
import java.time.Clock;
import java.util.List;

/**
 * The one place tools are registered. To add a tool: write a class implementing {@link McpTool} and add an
 * instance to {@link #builtIn}. Names must be unique ({@link McpEndpoint} refuses duplicates at start).
 */
public final class Tools {
    private Tools() {}

    /** Every built-in tool, each requiring {@code scope} (see {@link #defaultScope}). */
    public static List<McpTool> builtIn(String scope, Notes notes, Clock clock) {
        return List.of(
                new WhoamiTool(scope),
                new NotesAddTool(scope, notes, clock),
                new NotesListTool(scope, notes));
    }

    public static List<McpTool> builtIn(Settings settings, Notes notes) {
        return builtIn(settings, notes, null);
    }

    /** The built-in tools plus, when users sign in upstream ({@code upstream} not null), {@code upstream_profile}. */
    public static List<McpTool> builtIn(Settings settings, Notes notes, UpstreamProfileTool.Endpoint upstream) {
        List<McpTool> tools = new java.util.ArrayList<>(builtIn(defaultScope(settings), notes, Clock.systemUTC()));
        if (upstream != null) tools.add(new UpstreamProfileTool(defaultScope(settings), upstream));
        return List.copyOf(tools);
    }

    /**
     * The scope the built-in tools require: the default scopes ({@code OAUTH_DEFAULT_SCOPES}, space-separated when
     * several), or the first supported scope when no default is configured.
     */
    public static String defaultScope(Settings settings) {
        if (!settings.defaultScopes.isEmpty()) return String.join(" ", settings.defaultScopes);
        return settings.scopes.iterator().next();
    }
}
