package dev.netboot.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Hands work to a serial executor in batches: however many items are submitted while one batch runs,
 * they cost one hand-over (one wake-up of the target thread) together, not one each. Items run in
 * submission order (per submitting thread; the target is serial). Each item may return a continuation;
 * the continuations of one batch are handed to {@code then} together (one more hand-over, e.g. back to
 * the event loop), again in order. With {@code then} null the continuations run where the items did.
 *
 * <p>A batch takes at most {@code maxBatch} items, so the first completions go back while later
 * items still wait (latency stays bounded under a flood).
 */
final class BatchingExecutor {

    private final Executor target;
    private final Executor then;
    private final int maxBatch;
    private final ConcurrentLinkedQueue<Supplier<Runnable>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Items submitted whose work, and continuation if any, has not finished yet. */
    private final AtomicInteger outstanding = new AtomicInteger();

    BatchingExecutor(Executor target, Executor then, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("batch of " + maxBatch);
        this.target = target;
        this.then = then;
        this.maxBatch = maxBatch;
    }

    /** Runs {@code work} on the target thread; the Runnable it returns (may be null) runs on {@code then}. */
    void submit(Supplier<Runnable> work) {
        outstanding.incrementAndGet();
        queue.add(work);
        if (scheduled.compareAndSet(false, true)) target.execute(this::drain);
    }

    /**
     * Queues {@code work} like {@link #submit} but does not hand it over: the next {@link #handOver} (or any
     * {@link #submit}) does, for everything waiting. A thread that receives a batch of requests holds each one and
     * hands them over once at the end, one wake-up of the target for the batch. The caller must call
     * {@link #handOver} afterwards; until then the item waits.
     */
    void hold(Supplier<Runnable> work) {
        outstanding.incrementAndGet();
        queue.add(work);
    }

    /** Hands over every item held so far (by any thread), if no drain is queued already. */
    void handOver() {
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) target.execute(this::drain);
    }

    /**
     * Whether every item submitted so far has run, continuation included. Work done elsewhere after this
     * answered true comes after all of it: the caller may then do a small job itself instead of handing it
     * over, without overtaking anything (a write done inline cannot be overwritten by an older one still queued).
     */
    boolean idle() { return outstanding.get() == 0; }

    /** Runs {@code work} on the target thread, with nothing to do afterwards. */
    void execute(Runnable work) {
        submit(() -> {
            work.run();
            return null;
        });
    }

    private void drain() {
        // Cleared before polling: an item added after the last poll schedules the next drain itself.
        scheduled.set(false);
        List<Runnable> done = new ArrayList<>();
        int n = 0;
        Supplier<Runnable> w;
        while (n < maxBatch && (w = queue.poll()) != null) {
            n++;
            Runnable c;
            try {
                c = w.get();
            } catch (RuntimeException e) {
                // One item's bug must not stop the items after it (the adapter logs its own I/O errors).
                outstanding.decrementAndGet();
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
                continue;
            }
            if (c == null) {
                outstanding.decrementAndGet();
                continue;
            }
            done.add(() -> {
                try {
                    c.run();
                } finally {
                    outstanding.decrementAndGet();
                }
            });
        }
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) target.execute(this::drain);
        if (done.isEmpty()) return;
        if (then == null) done.forEach(Runnable::run);
        else then.execute(() -> done.forEach(Runnable::run));
    }
}
