package io.mcpoauth.resource.tools;

import io.mcpoauth.config.Settings;
import io.mcpoauth.connect.Connections;
import io.mcpoauth.idp.ProfileEndpoint;
import io.mcpoauth.resource.McpEndpoint;
import io.mcpoauth.resource.McpTool;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The one place tools are registered. To add a tool: write a class implementing {@link McpTool} and add an
 * instance to {@link #builtIn}. Names must be unique ({@link McpEndpoint} refuses duplicates at start).
 */
public final class BuiltInTools {
    private BuiltInTools() {}

    /** Every built-in tool, each requiring {@code scope} (see {@link McpEndpoint#defaultScope}). */
    public static List<McpTool> builtIn(String scope, Notes notes, Clock clock) {
        return List.of(
                new WhoamiTool(scope),
                new NotesAddTool(scope, notes, clock),
                new NotesListTool(scope, notes),
                new NotesClearTool(scope, notes));
    }

    public static List<McpTool> builtIn(Settings settings, Notes notes) {
        return builtIn(settings, notes, null);
    }

    /** The built-in tools plus, when users sign in upstream ({@code upstream} not null), {@code upstream_profile}. */
    public static List<McpTool> builtIn(Settings settings, Notes notes, ProfileEndpoint upstream) {
        return builtIn(settings, notes, upstream, null, null);
    }

    /**
     * ... plus, when connections are configured ({@code connections} not null), {@code connections_status} and (when a
     * connection has a userinfo endpoint) {@code connection_profile}.
     */
    public static List<McpTool> builtIn(Settings settings, Notes notes, ProfileEndpoint upstream, Connections connections, Duration timeout) {
        List<McpTool> tools = new java.util.ArrayList<>(builtIn(McpEndpoint.defaultScope(settings), notes, Clock.systemUTC()));
        if (upstream != null) tools.add(new IdpProfileTool(McpEndpoint.defaultScope(settings), upstream));
        if (connections != null) {
            tools.add(new ConnectionsStatusTool(McpEndpoint.defaultScope(settings), connections));
            if (ConnectionProfileTool.useful(connections)) tools.add(new ConnectionProfileTool(McpEndpoint.defaultScope(settings), connections, timeout));
        }
        return List.copyOf(tools);
    }
}
