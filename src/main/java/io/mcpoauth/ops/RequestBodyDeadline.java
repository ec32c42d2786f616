package io.mcpoauth.ops;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * In front of everything: a request body is read asynchronously, holding no thread while it arrives, and only a
 * whole body (or its first {@code maxBuffered} bytes) is handed to the application, whose reads then never block.
 * A body not received within {@code timeout} is answered 408 and its connection closed. Without this, every
 * servlet reading a body holds a request thread for as long as the client takes to send it: 300 connections
 * trickling a body a byte every two seconds held every thread, and {@code /healthz} stopped answering.
 */
final class RequestBodyDeadline extends Handler.Wrapper {
    private final long timeoutMillis;
    private final int maxBuffered;

    RequestBodyDeadline(long timeoutMillis, int maxBuffered) {
        this.timeoutMillis = timeoutMillis;
        this.maxBuffered = maxBuffered;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Handler next = getHandler();
        if (next == null) return false;
        if (!hasBody(request)) return next.handle(request, response, callback);
        new Loader(next, request, response, callback).start();
        return true;
    }

    private static boolean hasBody(Request request) {
        for (HttpField f : request.getHeaders()) {
            if (f.getHeader() == HttpHeader.CONTENT_LENGTH && f.getLongValue() > 0) return true;
            if (f.getHeader() == HttpHeader.TRANSFER_ENCODING && f.contains(HttpHeaderValue.CHUNKED.asString())) return true;
        }
        return false;
    }

    /** Reads without blocking; runs as a non-blocking demand callback, so the application is dispatched to a pool thread. */
    private final class Loader implements Invocable.Task {
        private final Handler next;
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final AtomicBoolean settled = new AtomicBoolean();
        private Scheduler.Task deadline;

        Loader(Handler next, Request request, Response response, Callback callback) {
            this.next = next;
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        void start() {
            deadline = request.getComponents().getScheduler().schedule(this::expire, timeoutMillis, TimeUnit.MILLISECONDS);
            read(false);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }

        /** More content arrived (a demand callback, possibly on a selector thread: the application must not run here). */
        @Override
        public void run() {
            read(true);
        }

        /** Reads what has arrived; asks to be called again when more does (holding no thread meanwhile). */
        private void read(boolean fromCallback) {
            while (!settled.get()) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    if (settled.compareAndSet(false, true)) {
                        deadline.cancel();
                        callback.failed(chunk.getFailure());
                    }
                    return;
                }
                ByteBuffer b = chunk.getByteBuffer();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                body.write(bytes, 0, bytes.length);
                boolean last = chunk.isLast();
                chunk.release();
                if (last || body.size() >= maxBuffered) {
                    if (!settled.compareAndSet(false, true)) return;
                    deadline.cancel();
                    if (fromCallback) request.getContext().execute(() -> dispatch(last));
                    else dispatch(last);
                    return;
                }
            }
        }

        private void expire() {
            if (!settled.compareAndSet(false, true)) return;
            response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
            Response.writeError(request, response, callback, 408, "The request body did not arrive in time.");
        }

        private void dispatch(boolean complete) {
            Request replay = new Replay(request, body.toByteArray(), complete);
            try {
                if (!next.handle(replay, response, callback)) Response.writeError(request, response, callback, 404);
            } catch (Throwable t) {
                Response.writeError(request, response, callback, t);
            }
        }
    }

    /** The request with its body served from memory first (then from the connection, when only a part was buffered). */
    private static final class Replay extends Request.Wrapper {
        private final byte[] bytes;
        private final boolean complete;
        private boolean served;

        Replay(Request wrapped, byte[] bytes, boolean complete) {
            super(wrapped);
            this.bytes = bytes;
            this.complete = complete;
        }

        @Override
        public synchronized Content.Chunk read() {
            if (!served) {
                served = true;
                return Content.Chunk.from(ByteBuffer.wrap(bytes), complete);
            }
            return complete ? Content.Chunk.EOF : super.read();
        }

        @Override
        public void demand(Runnable demandCallback) {
            boolean ready;
            synchronized (this) {
                ready = !served || complete;
            }
            if (ready) demandCallback.run();
            else super.demand(demandCallback);
        }
    }
}
