package dev.netboot.boot;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One thread that writes what the boot services observed (clients, boot events) into the inventory, off
 * their event loops. Bounded: a flood must not queue writes without end; what does not fit is dropped
 * and {@code onDropped} is told (it logs, rate-limited).
 */
final class InventoryWriter implements AutoCloseable {

    private final ThreadPoolExecutor thread;

    InventoryWriter(String name, int capacity, Runnable onDropped) {
        this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(capacity),
                Thread.ofPlatform().daemon().name(name).factory(), (task, pool) -> onDropped.run());
    }

    void execute(Runnable write) { thread.execute(write); }

    /** Waits for the writes queued so far (tests). */
    void sync() throws InterruptedException {
        try {
            thread.submit(() -> {}).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
