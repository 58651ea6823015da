package dev.netboot.replication;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

/** Hand-overs counted with executors that only queue (run by the test): one per burst, order kept. */
class BatchingExecutorTest {

    /** An executor that runs nothing until told: counts how often work was handed to it. */
    static final class Manual implements Executor {
        final ArrayDeque<Runnable> queued = new ArrayDeque<>();
        int handOvers;

        @Override public void execute(Runnable r) {
            handOvers++;
            queued.add(r);
        }

        void runAll() {
            while (!queued.isEmpty()) queued.poll().run();
        }
    }

    @Test
    void aBurstIsOneHandOverEachWayAndEverythingRunsInOrder() {
        Manual io = new Manual(), loop = new Manual();
        BatchingExecutor b = new BatchingExecutor(io, loop, 64);
        List<String> trace = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            int n = i;
            b.submit(() -> {
                trace.add("io " + n);
                return () -> trace.add("done " + n);
            });
        }
        assertThat(io.handOvers).as("50 submissions wake the I/O thread once").isEqualTo(1);
        io.runAll();
        assertThat(loop.handOvers).as("their 50 completions go back in one task").isEqualTo(1);
        loop.runAll();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) expected.add("io " + i);
        for (int i = 0; i < 50; i++) expected.add("done " + i);
        assertThat(trace).isEqualTo(expected);
    }

    /**
     * A receive thread's batch: the target drains at once on another CPU, so without holding, each write of the
     * batch found the drain done and woke the target again. Held items wait for the hand-over; an item submitted
     * meanwhile (a FLUSH) carries the held ones along, in order.
     */
    @Test
    void heldItemsWakeTheTargetOnceAtTheHandOverAndKeepTheirPlaceBeforeLaterSubmissions() {
        Manual loop = new Manual();
        BatchingExecutor b = new BatchingExecutor(loop, null, 1024);
        List<String> trace = new ArrayList<>();
        for (int batch = 0; batch < 3; batch++) {
            for (int i = 0; i < 8; i++) {
                String name = "write " + batch + "." + i;
                b.hold(() -> {
                    trace.add(name);
                    return null;
                });
            }
            assertThat(loop.handOvers).as("held writes wake nothing").isEqualTo(batch);
            assertThat(b.idle()).isFalse();
            b.handOver();
            assertThat(loop.handOvers).as("one wake-up for a batch of 8").isEqualTo(batch + 1);
            loop.runAll();
            b.handOver();
            assertThat(loop.handOvers).as("a hand-over with nothing held wakes nothing").isEqualTo(batch + 1);
        }
        assertThat(b.idle()).isTrue();
        b.hold(() -> {
            trace.add("held");
            return null;
        });
        b.execute(() -> trace.add("flush"));
        assertThat(loop.handOvers).isEqualTo(4);
        loop.runAll();
        b.handOver();
        assertThat(loop.handOvers).as("the submission took the held item along").isEqualTo(4);
        assertThat(trace).hasSize(26).endsWith("write 2.7", "held", "flush");
        assertThat(b.idle()).isTrue();
    }

    @Test
    void aFloodIsCutIntoBatchesSoCompletionsFlowWhileItLasts() {
        Manual io = new Manual(), loop = new Manual();
        BatchingExecutor b = new BatchingExecutor(io, loop, 10);
        List<Integer> done = new ArrayList<>();
        for (int i = 0; i < 35; i++) {
            int n = i;
            b.submit(() -> () -> done.add(n));
        }
        io.queued.poll().run();   // the first batch only
        assertThat(loop.handOvers).isEqualTo(1);
        loop.runAll();
        assertThat(done).hasSize(10);
        io.runAll();
        loop.runAll();
        assertThat(done).hasSize(35).isSorted();
        assertThat(io.handOvers).isEqualTo(4);
    }

    @Test
    void workSubmittedWhileABatchRunsIsNotLost() {
        Manual io = new Manual();
        BatchingExecutor b = new BatchingExecutor(io, null, 64);
        List<Integer> ran = new ArrayList<>();
        b.execute(() -> {
            ran.add(1);
            b.execute(() -> ran.add(2));   // arrives after the drain polled: must schedule another
        });
        io.runAll();
        assertThat(ran).containsExactly(1, 2);
    }

    @Test
    void itIsIdleOnlyOnceEveryItemsWorkAndContinuationHaveRun() {
        Manual io = new Manual(), loop = new Manual();
        BatchingExecutor b = new BatchingExecutor(io, loop, 64);
        assertThat(b.idle()).isTrue();
        b.submit(() -> () -> { });
        b.execute(() -> { });
        assertThat(b.idle()).as("queued, not run").isFalse();
        io.runAll();
        assertThat(b.idle()).as("the work ran, its continuation has not: an inline write now could finish first").isFalse();
        loop.runAll();
        assertThat(b.idle()).isTrue();
        b.submit(() -> { throw new IllegalStateException("an item's bug"); });
        Thread.UncaughtExceptionHandler h = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> { });
        try {
            io.runAll();
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(h);
        }
        assertThat(b.idle()).as("a failed item is not outstanding for ever").isTrue();
    }
}
