package dev.netboot.aoe;

import dev.netboot.storage.BlockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.netboot.metrics.RateLimitedLog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Carries out the responder's effects against the stores and encodes the replies into a sink.
 * Reads are encoded in place: the ATA header goes into the sink's buffer and the store reads the
 * sectors straight behind it, so read data is copied once (page cache to frame).
 *
 * <p>Flushes may be slow (fdatasync): with a flush executor they run there and their reply is
 * sent from that thread through {@code asyncSink}, so reads and writes of other requests do not
 * wait behind them. Per target at most one flush runs or waits in the executor: FLUSHes that arrive
 * while one runs are answered together by the next one (which starts after they arrived, so it
 * covers every write acknowledged before each of them), and at most {@link #MAX_WAITING_FLUSHES}
 * wait; more are dropped unanswered (the initiator retransmits). So a client that floods FLUSH costs
 * one fdatasync at a time and cannot queue work without bound or starve another target's FLUSH.
 */
public final class EffectRunner {

    private static final Logger log = LoggerFactory.getLogger(EffectRunner.class);
    private final RateLimitedLog ioErrors = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));

    private final AoeResponder responder;
    private final String where;
    private final StorageDirectory storage;
    private final Executor flushExecutor;
    private final FrameSink asyncSink;
    /** Replies waiting for the next flush of each target that has one running or queued; guarded by itself. */
    private final Map<TargetAddress, List<AoeFrame>> waitingFlushes = new HashMap<>();
    private final RateLimitedLog malformed = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private final RateLimitedLog wrongInterface = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private final RateLimitedLog droppedFlushes = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private long dropped;
    static final int MAX_WAITING_FLUSHES = 256;

    /** With a null executor, flushes run inline before the next effect. */
    public EffectRunner(AoeResponder responder, StorageDirectory storage, Executor flushExecutor, FrameSink asyncSink) {
        this(responder, storage, flushExecutor, asyncSink, "");
    }

    /** @param where the interface the frames come in on, for the log ("" when there is none) */
    public EffectRunner(AoeResponder responder, StorageDirectory storage, Executor flushExecutor, FrameSink asyncSink, String where) {
        this.where = where.isEmpty() ? "" : " on " + where;
        this.responder = responder;
        this.storage = storage;
        this.flushExecutor = flushExecutor;
        this.asyncSink = asyncSink;
    }

    public void run(List<Effect> effects, FrameSink sink) {
        run(effects, sink, false);
    }

    /**
     * @param holdWrites replicated writes may wait for this thread's {@link #handOver} (the receive loop holds a
     *                   batch's writes and hands them over together)
     */
    public void run(List<Effect> effects, FrameSink sink, boolean holdWrites) {
        for (Effect e : effects) {
            switch (e) {
                case Effect.Send s -> send(s.frame(), sink);
                case Effect.Read r -> read(r, sink);
                case Effect.Write w -> {
                    if (replicated(w.target())) {
                        replicatedWrite(w, holdWrites);
                        continue;
                    }
                    BlockStore store = storage.store(w.target());
                    AoeFrame reply = w.reply();
                    try {
                        if (store == null) throw new IOException("target e" + w.target() + " was removed");
                        store.write(w.offset(), w.data().duplicate());
                    } catch (IOException ex) {
                        ioErrors.warn("write to e" + w.target() + " at byte " + w.offset() + " failed: " + ex.getMessage());
                        reply = responder.ioFailed(reply);
                    }
                    send(reply, sink);
                }
                case Effect.Flush f -> {
                    if (replicated(f.target())) {
                        AoeFrame reply = f.reply();
                        storage.replication().flush(f.target(), ok -> send(ok ? reply : responder.ioFailed(reply), asyncSink));
                    } else if (flushExecutor == null) send(flush(f.target()) ? f.reply() : responder.ioFailed(f.reply()), sink);
                    else queueFlush(f);
                }
                case Effect.SaveState s -> storage.saveState(s.target(), s.state());
                case Effect.Discovered d -> responder.report(d);
                case Effect.Malformed m -> malformed.warn("dropped a malformed AoE frame from " + m.source() + where + ": " + m.reason()
                        + " (" + responder.dropped(AoeResponder.Drop.MALFORMED) + " malformed frames so far)");
                case Effect.WrongInterface w -> wrongInterface.warn("dropped an AoE frame from " + w.source() + " for e" + w.target() + where
                        + ": that disk is bound to " + String.join(", ", new java.util.TreeSet<>(w.boundTo()))
                        + " (" + responder.dropped(AoeResponder.Drop.WRONG_INTERFACE) + " such frames so far)");
            }
        }
    }

    /** Writes of a replicated target are answered once the replication says so, from its thread (never waited for here). */
    private boolean replicated(TargetAddress target) {
        WriteReplication r = storage.replication();
        return r != null && asyncSink != null && r.replicates(target);
    }

    /** Hands over the replicated writes that {@link #run} held on this thread. */
    public void handOver() {
        WriteReplication r = storage.replication();
        if (r != null) r.handOver();
    }

    private void replicatedWrite(Effect.Write w, boolean held) {
        // The frame's buffer is reused for the next batch: the replication gets its own copy (which is also what is sent).
        ByteBuffer copy = ByteBuffer.allocate(w.data().remaining()).put(w.data().duplicate()).flip();
        AoeFrame reply = w.reply();
        long offset = w.offset();
        TargetAddress target = w.target();
        Consumer<Boolean> done = ok -> {
            if (!ok) ioErrors.warn("replicated write to e" + target + " at byte " + offset + " failed");
            send(ok ? reply : responder.ioFailed(reply), asyncSink);
        };
        if (held) storage.replication().writeHeld(target, offset, copy, done);
        else storage.replication().write(target, offset, copy, done);
    }

    private void queueFlush(Effect.Flush f) {
        boolean start;
        synchronized (waitingFlushes) {
            List<AoeFrame> waiting = waitingFlushes.get(f.target());
            start = waiting == null;
            if (start) waitingFlushes.put(f.target(), waiting = new ArrayList<>());
            if (waiting.size() >= MAX_WAITING_FLUSHES) {
                dropped++;
                droppedFlushes.warn("e" + f.target() + " gets FLUSH faster than the disk syncs: " + MAX_WAITING_FLUSHES
                        + " wait for the next fdatasync, more are dropped unanswered (" + dropped + " dropped so far)");
                return;
            }
            waiting.add(f.reply());
        }
        if (start) flushExecutor.execute(() -> flushWaiting(f.target()));
    }

    /**
     * One fdatasync for all replies waiting now; FLUSHes arriving meanwhile wait for the next, which
     * is queued behind other targets' flushes rather than run at once, so no target holds a thread.
     */
    private void flushWaiting(TargetAddress target) {
        List<AoeFrame> replies;
        synchronized (waitingFlushes) {
            replies = waitingFlushes.put(target, new ArrayList<>());
        }
        boolean ok = flush(target);
        for (AoeFrame reply : replies) send(ok ? reply : responder.ioFailed(reply), asyncSink);
        boolean again;
        synchronized (waitingFlushes) {
            again = !waitingFlushes.get(target).isEmpty();
            if (!again) waitingFlushes.remove(target);
        }
        if (again) flushExecutor.execute(() -> flushWaiting(target));
    }

    /** FLUSHes dropped because too many of one target were waiting. */
    public long droppedFlushes() {
        synchronized (waitingFlushes) {
            return dropped;
        }
    }

    private boolean flush(TargetAddress target) {
        BlockStore store = storage.store(target);
        try {
            if (store == null) throw new IOException("target e" + target + " was removed");
            store.flush();
            return true;
        } catch (IOException ex) {
            ioErrors.warn("flush of e" + target + " failed: " + ex.getMessage());
            return false;
        }
    }

    private void read(Effect.Read r, FrameSink sink) {
        BlockStore store = storage.store(r.target());
        AoeFrame reply = r.reply();
        if (store != null && sink.takesPinnedData() && readInPlace(r, store, reply, sink)) return;
        ByteBuffer out = sink.claim(AoeCodec.ATA_FRAME_OVERHEAD + r.length());
        encodeReplyHeaders(reply, out);
        ByteBuffer data = out.slice(out.position(), r.length());
        try {
            if (store == null) throw new IOException("target e" + r.target() + " was removed");
            store.read(r.offset(), data);
            out.position(out.position() + r.length());
            sink.commit(out);
        } catch (IOException ex) {
            ioErrors.warn("read of e" + r.target() + " at byte " + r.offset() + " failed: " + ex.getMessage());
            sink.abandon(out);
            send(responder.ioFailed(reply), sink);
        }
    }

    /**
     * The reply's headers in the sink, its data left in the store's mapping for the send to copy (one
     * copy instead of two). False when the store cannot pin: then the data is read into the frame.
     */
    private static boolean readInPlace(Effect.Read r, BlockStore store, AoeFrame reply, FrameSink sink) {
        BlockStore.Pinned pinned;
        try {
            pinned = store.pin(r.offset(), r.length());
        } catch (IOException e) {
            return false;   // the read path says what is wrong, with an ATA error
        }
        if (pinned == null) return false;
        ByteBuffer out = sink.claim(AoeCodec.ATA_FRAME_OVERHEAD);
        encodeReplyHeaders(reply, out);
        sink.commitWithData(out, pinned);
        return true;
    }

    /** Ethernet, AoE and ATA headers of a read reply; its data follows (in the frame, or pinned). */
    private static void encodeReplyHeaders(AoeFrame reply, ByteBuffer out) {
        AoeCodec.encodeHeaders(reply.destination(), reply.source(), reply.header(), out);
        AoeCodec.encodeAtaHeader((AoeMessage.Ata) reply.message(), out);
    }

    private static void send(AoeFrame frame, FrameSink sink) {
        int length = AoeCodec.encodedLength(frame);
        ByteBuffer out = sink.claim(Math.max(length, AoeCodec.MIN_FRAME));
        AoeCodec.encode(frame, out);
        // Pad short frames ourselves: a veth or tap delivers them unpadded otherwise.
        while (out.position() < AoeCodec.MIN_FRAME) out.put((byte) 0);
        sink.commit(out);
    }
}
