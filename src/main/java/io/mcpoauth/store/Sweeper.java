package io.mcpoauth.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evicts expired entries on a schedule. Durable evictions go through the stores' own commit path, so a sweep never
 * writes a stale snapshot over a concurrent rotation.
 */
public final class Sweeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);

    /** One kind of eviction; returns how many entries it removed. */
    public interface Task {
        String name();

        int sweep(Instant now);

        static Task of(String name, java.util.function.ToIntFunction<Instant> fn) {
            return new Task() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public int sweep(Instant now) {
                    return fn.applyAsInt(now);
                }
            };
        }
    }

    private final List<Task> tasks;
    private final Clock clock;
    private final Stores stores;
    private ScheduledExecutorService executor;

    public Sweeper(List<Task> tasks, Clock clock) {
        this(tasks, clock, null);
    }

    /** @param stores with a store shared by several instances, a round runs on one of them at a time ({@link Stores#exclusively}) */
    public Sweeper(List<Task> tasks, Clock clock, Stores stores) {
        this.tasks = List.copyOf(tasks);
        this.clock = clock;
        this.stores = stores;
    }

    /**
     * Runs every task once; returns removed counts by task name (empty when another instance was sweeping). A failing
     * task is logged and does not stop the others.
     */
    public Map<String, Integer> runOnce() {
        Map<String, Integer> removed = new LinkedHashMap<>();
        Runnable round = () -> {
            Instant now = clock.instant();
            for (Task t : tasks) {
                try {
                    removed.put(t.name(), t.sweep(now));
                } catch (RuntimeException e) {
                    LOG.warn("Sweeping {} failed: {}", t.name(), e.getMessage());
                }
            }
        };
        try {
            if (stores == null) round.run();
            else if (!stores.exclusively("sweep", round)) LOG.debug("Another instance is sweeping; skipped this round");
        } catch (RuntimeException e) {
            LOG.warn("Sweeping failed: {}", e.getMessage());
        }
        if (removed.values().stream().anyMatch(n -> n > 0)) LOG.info("Swept expired entries: {}", removed);
        return removed;
    }

    public synchronized void start(Duration interval) {
        if (executor != null) return;
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sweeper");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        executor.scheduleWithFixedDelay(this::runOnce, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        if (executor == null) return;
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor = null;
    }
}
