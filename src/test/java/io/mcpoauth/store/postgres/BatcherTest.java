package io.mcpoauth.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.store.StoreException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Requests answered in batches led by the requests' own threads. */
class BatcherTest {
    @Test
    void anUncontendedRequestRunsOnItsOwnThread() {
        List<Thread> ranOn = Collections.synchronizedList(new ArrayList<>());
        Batcher<String, String> b = new Batcher<>("read", "answer", 1, 5_000, items -> {
            ranOn.add(Thread.currentThread());
            return items.stream().map(i -> i + "!").toList();
        });
        assertEquals("a!", b.submit("a"));
        assertEquals(List.of(Thread.currentThread()), ranOn, "no hand-off to another thread");
    }

    @Test
    void requestsThatArriveWhileABatchRunsShareTheNextOneAndEachGetsItsOwnResult() throws Exception {
        CountDownLatch firstRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());
        Batcher<Integer, Integer> b = new Batcher<>("write", "confirm it", 1, 10_000, items -> {
            batches.add(List.copyOf(items));
            if (items.contains(0)) {
                firstRunning.countDown();
                await(release);
            }
            return items.stream().map(i -> i * 10).toList();
        });
        ExecutorService pool = Executors.newFixedThreadPool(9);
        try {
            Future<Integer> first = pool.submit(() -> b.submit(0));
            assertTrue(firstRunning.await(5, TimeUnit.SECONDS));
            List<Future<Integer>> rest = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                int n = i;
                rest.add(pool.submit(() -> b.submit(n)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (queuedBehind(b) < 8 && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            release.countDown();
            assertEquals(0, first.get(5, TimeUnit.SECONDS));
            for (int i = 0; i < 8; i++) assertEquals((i + 1) * 10, rest.get(i).get(5, TimeUnit.SECONDS));
            assertEquals(2, batches.size(), "the eight that waited went in one batch: " + batches);
            assertEquals(8, batches.get(1).size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailedBatchFailsEveryRequestInIt() {
        IllegalStateException boom = new IllegalStateException("the database went away");
        Batcher<String, String> b = new Batcher<>("read", "answer", 1, 5_000, items -> {
            throw boom;
        });
        assertSame(boom, assertThrows(IllegalStateException.class, () -> b.submit("a")));
    }

    @Test
    void aRequestStillQueuedAtItsDeadlineIsTakenBackAndNeverRun() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        Batcher<String, String> b = new Batcher<>("write", "confirm it", 1, 200, items -> {
            ran.addAll(items);
            running.countDown();
            if (items.contains("slow")) await(release);
            return items;
        });
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<String> slow = pool.submit(() -> b.submit("slow"));
            assertTrue(running.await(5, TimeUnit.SECONDS));
            StoreException e = assertThrows(StoreException.class, () -> b.submit("late"));
            assertEquals("Cannot write: the database did not confirm it within 200 ms", e.getMessage());
            release.countDown();
            assertEquals("slow", slow.get(5, TimeUnit.SECONDS));
            assertEquals(List.of("slow"), ran, "the request that gave up was never run");
            assertEquals("next", b.submit("next"));
        } finally {
            pool.shutdownNow();
        }
    }

    private static int queuedBehind(Batcher<?, ?> b) {
        return b.queuedCount();
    }

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("not released");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
