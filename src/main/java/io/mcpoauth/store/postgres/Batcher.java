package io.mcpoauth.store.postgres;

import io.mcpoauth.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Requests of one kind answered together, by the requests' own threads: a caller queues its item and, when fewer than
 * {@code leaders} batches are running, leads one itself: it takes what is queued (at most {@link #MAX_BATCH}, its own
 * item among them), runs it, and hands each caller its result. The others wait for theirs; one of them leads the next
 * batch as soon as a leader is done. So an uncontended request costs no thread hand-off at all, and concurrent ones
 * share one round trip, as with a dedicated thread but without waking it and being woken by it.
 *
 * <p>Every wait is bounded: a caller waits at most {@code waitMs} for its result. One whose item was not taken yet by
 * then takes it back (it is never run); one whose item is being run gets {@link StoreException#unavailable}, as for
 * any request whose answer was lost (the outcome is unknown). A failed batch fails every item in it the same way.
 */
final class Batcher<I, R> implements AutoCloseable {
    /** Runs a batch: one result per item, in order; an exception fails them all. */
    interface Run<I, R> {
        List<R> run(List<I> items);
    }

    static final int MAX_BATCH = 128;
    static final int QUEUE = 10_000;

    private static final class Pending<I, R> {
        final I item;
        final Thread waiter;
        volatile boolean done;
        R result;
        RuntimeException failure;

        Pending(I item, Thread waiter) {
            this.item = item;
            this.waiter = waiter;
        }
    }

    private final String what;
    private final String waitedFor;
    private final long waitMs;
    private final Run<I, R> run;
    private final Semaphore leading;
    private final ConcurrentLinkedQueue<Pending<I, R>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private volatile boolean closed;

    /**
     * @param what      what a request does, for messages ("read a grant")
     * @param waitedFor what did not happen in time, for the timeout message ("answer", "confirm it")
     * @param leaders   batches that may run at once
     */
    Batcher(String what, String waitedFor, int leaders, long waitMs, Run<I, R> run) {
        this.what = what;
        this.waitedFor = waitedFor;
        this.waitMs = waitMs;
        this.run = run;
        this.leading = new Semaphore(leaders);
    }

    R submit(I item) {
        if (closed) throw StoreException.unavailable("Cannot " + what + ": the store is closing", null);
        if (queued.incrementAndGet() > QUEUE) {
            queued.decrementAndGet();
            throw StoreException.unavailable("Cannot " + what + ": too many requests are waiting for the database", null);
        }
        Pending<I, R> p = new Pending<>(item, Thread.currentThread());
        queue.add(p);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        return await(p, deadline);
    }

    private R await(Pending<I, R> p, long deadline) {
        boolean interrupted = false;
        while (!p.done) {
            if (leading.tryAcquire()) {
                try {
                    while (!p.done && runOne()) {
                        // batches until this caller's own item has run
                    }
                } finally {
                    leading.release();
                }
                Pending<I, R> next = queue.peek();
                if (next != null) LockSupport.unpark(next.waiter); // leads the next batch
                continue;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (queue.remove(p)) {
                    queued.decrementAndGet();
                    throw StoreException.unavailable("Cannot " + what + ": the database did not " + waitedFor + " within " + waitMs + " ms", null);
                }
                while (!p.done) LockSupport.parkNanos(this, 1_000_000); // being run now: its batch is bounded by the database's timeouts
                break;
            }
            // woken by the batch that ran this item, or by a leader done while this one still waits; the bound only
            // covers a wake-up lost to a race
            LockSupport.parkNanos(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
            if (Thread.interrupted()) {
                interrupted = true;
                if (queue.remove(p)) {
                    queued.decrementAndGet();
                    Thread.currentThread().interrupt();
                    throw StoreException.unavailable("Cannot " + what + ": interrupted", null);
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (p.failure != null) throw p.failure;
        return p.result;
    }

    /** Takes and runs one batch; false when nothing was queued. */
    private boolean runOne() {
        List<Pending<I, R>> batch = new ArrayList<>();
        for (Pending<I, R> p; batch.size() < MAX_BATCH && (p = queue.poll()) != null; ) batch.add(p);
        if (batch.isEmpty()) return false;
        queued.addAndGet(-batch.size());
        List<I> items = new ArrayList<>(batch.size());
        for (Pending<I, R> p : batch) items.add(p.item);
        List<R> results = null;
        RuntimeException failure = null;
        try {
            results = run.run(items);
            if (results.size() != items.size()) throw new IllegalStateException("a batch of " + items.size() + " gave " + results.size() + " results");
        } catch (RuntimeException e) {
            failure = e;
        }
        for (int i = 0; i < batch.size(); i++) {
            Pending<I, R> p = batch.get(i);
            if (failure != null) p.failure = failure;
            else p.result = results.get(i);
            p.done = true;
            if (p.waiter != Thread.currentThread()) LockSupport.unpark(p.waiter);
        }
        return true;
    }

    /** Requests queued and not yet taken into a batch. */
    int queuedCount() {
        return queued.get();
    }

    /** Refuses new requests; the queued ones are led by their own callers. Waits (bounded) until they have run. */
    @Override
    public void close() {
        closed = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!queue.isEmpty() && System.nanoTime() < deadline) LockSupport.parkNanos(1_000_000);
    }
}
