package io.mcpoauth.resource;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether the client of a 2026-07-28 request is still there: closing the response stream is that era's cancellation
 * (basic/transports/streamable-http, "Cancellation"). {@link McpServlet} keeps a long request's answer open with SSE
 * comments and calls {@link #gone()} when one cannot be written; a backend registers what stops the request's work.
 */
public final class ClientLink {
    private List<Runnable> listeners = new ArrayList<>();
    private boolean gone;

    /** Runs {@code action} once the client has gone (at once if it has already). */
    public void onGone(Runnable action) {
        synchronized (this) {
            if (!gone) {
                listeners.add(action);
                return;
            }
        }
        action.run();
    }

    /** Whether the client has closed the response stream. */
    public synchronized boolean isGone() {
        return gone;
    }

    void gone() {
        List<Runnable> run;
        synchronized (this) {
            if (gone) return;
            gone = true;
            run = listeners;
            listeners = List.of();
        }
        run.forEach(Runnable::run);
    }
}
