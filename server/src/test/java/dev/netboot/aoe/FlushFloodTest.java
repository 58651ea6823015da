package dev.netboot.aoe;

import dev.netboot.storage.BlockStore;
import dev.netboot.storage.MemoryBlockStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that floods FLUSH while the disk's fdatasync is slow: the server's two flush threads
 * (as {@link AoeServer} has them) must not fill with its flushes, another target's FLUSH is answered
 * meanwhile, the flood's FLUSHes share fdatasyncs, and what waits is bounded.
 */
class FlushFloodTest {

    static final TargetAddress SLOW = new TargetAddress(1, 1), OTHER = new TargetAddress(1, 2);
    final ExecutorService flusher = Executors.newFixedThreadPool(2);

    @AfterEach
    void stop() { flusher.shutdownNow(); }

    /** A store whose flush waits for the test's word, counting how often it ran. */
    static final class SlowFlush implements BlockStore {
        final MemoryBlockStore data = new MemoryBlockStore(1 << 20);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger flushes = new AtomicInteger();
        @Override public long size() { return data.size(); }
        @Override public void read(long offset, ByteBuffer dst) throws IOException { data.read(offset, dst); }
        @Override public void write(long offset, ByteBuffer src) throws IOException { data.write(offset, src); }
        @Override public void close() {}
        @Override public void flush() throws IOException {
            flushes.incrementAndGet();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
    }

    @Test
    void aFlushFloodSharesFdatasyncsIsBoundedAndDoesNotStarveAnotherTarget() throws Exception {
        AoeResponder responder = new AoeResponder();
        SlowFlush slow = new SlowFlush();
        MemoryBlockStore other = new MemoryBlockStore(1 << 20);
        Map<TargetAddress, BlockStore> stores = new HashMap<>(Map.of(SLOW, slow, OTHER, other));
        for (TargetAddress a : stores.keySet())
            responder.add(new AoeTarget(new TargetDefinition(a, 2048, Set.of(Harness.CLIENT), false, false, "SN" + a), TargetState.EMPTY));
        StorageDirectory storage = new StorageDirectory() {
            @Override public BlockStore store(TargetAddress t) { return stores.get(t); }
            @Override public void saveState(TargetAddress t, TargetState s) {}
        };
        List<AoeFrame> replies = Collections.synchronizedList(new ArrayList<>());
        FrameSink sink = new FrameSink() {
            @Override public ByteBuffer claim(int capacity) { return ByteBuffer.allocate(capacity); }
            @Override public void commit(ByteBuffer frame) { replies.add(AoeCodecTest.decodeUnchecked(frame.flip())); }
        };
        EffectRunner runner = new EffectRunner(responder, storage, flusher, sink);

        int flood = 100_000;
        for (int tag = 1; tag <= flood; tag++) runner.run(responder.handle(AoeCodec.encode(flush(SLOW, tag)), Harness.PORT), sink);
        runner.run(responder.handle(AoeCodec.encode(flush(OTHER, flood + 1)), Harness.PORT), sink);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (replies.stream().noneMatch(r -> r.header().tag() == flood + 1) && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(replies).as("the other target's FLUSH is answered while the slow one's fdatasync hangs")
                .anyMatch(r -> r.header().tag() == flood + 1);
        assertThat(slow.flushes.get()).as("fdatasyncs started for the flood").isEqualTo(1);

        slow.release.countDown();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (slowReplies(replies) + runner.droppedFlushes() < flood && System.nanoTime() < deadline) Thread.sleep(10);
        Thread.sleep(200); // nothing more is coming
        // The first fdatasync answers those that arrived before it started, the second those that waited meanwhile.
        assertThat(slowReplies(replies) + runner.droppedFlushes()).as("each FLUSH answered or dropped").isEqualTo(flood);
        assertThat(slowReplies(replies)).as("answered FLUSHes").isBetween((long) EffectRunner.MAX_WAITING_FLUSHES, 2L * EffectRunner.MAX_WAITING_FLUSHES);
        assertThat(replies).allMatch(r -> (((AoeMessage.Ata) r.message()).cmdStatus() & Ata.STATUS_ERR) == 0);
        assertThat(slow.flushes.get()).as("fdatasyncs for " + flood + " FLUSHes").isEqualTo(2);
    }

    private static long slowReplies(List<AoeFrame> replies) {
        synchronized (replies) {
            return replies.stream().filter(r -> r.header().slot() == SLOW.slot()).count();
        }
    }

    private static AoeFrame flush(TargetAddress a, int tag) {
        return new AoeFrame(Harness.SERVER, Harness.CLIENT, new AoeHeader(1, false, false, 0, a.shelf(), a.slot(), AoeCommand.ATA, tag),
                Harness.ata(Ata.FLUSH_CACHE_EXT, 0, 0, new byte[0]));
    }
}
