package io.mcpoauth.resource.gateway;

/**
 * Lets a client's {@code notifications/cancelled} reach the upstream call it names: the transport registers how to
 * cancel once the request is on its way ({@link #onCancel}); {@link #cancel()} runs it at most once. It also carries
 * the call's handler of requests the upstream sends during it ({@link #serverRequests(ServerRequests)}).
 */
final class Cancellation {
    /**
     * What to do with a request the upstream sends us during this call (its message, with the upstream's id; and how
     * to send the client's JSON-RPC response back, id to be set by the transport), or null: such requests are refused.
     */
    interface ServerRequests {
        void request(com.fasterxml.jackson.databind.JsonNode request, java.util.function.Consumer<com.fasterxml.jackson.databind.JsonNode> respond);
    }

    private volatile ServerRequests serverRequests;
    private Runnable action;

    /** The call's handler of the upstream's own requests (see {@link ServerRequests}). */
    void serverRequests(ServerRequests handler) {
        this.serverRequests = handler;
    }

    ServerRequests serverRequests() {
        return serverRequests;
    }

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
