package io.mcpoauth.resource.gateway;

/**
 * Lets a client's {@code notifications/cancelled} reach the upstream call it names: the transport registers how to
 * cancel once the request is on its way ({@link #onCancel}); {@link #cancel()} runs it at most once.
 */
final class Cancellation {
    private Runnable action;
    private boolean cancelled;

    /** Runs {@code action} now if already cancelled, else when {@link #cancel()} is called. */
    void onCancel(Runnable action) {
        boolean now;
        synchronized (this) {
            now = cancelled;
            this.action = now ? null : action;
        }
        if (now) action.run();
    }

    void cancel() {
        Runnable a;
        synchronized (this) {
            if (cancelled) return;
            cancelled = true;
            a = action;
            action = null;
        }
        if (a != null) a.run();
    }

    synchronized boolean cancelled() {
        return cancelled;
    }
}
