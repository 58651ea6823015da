package dev.netboot.aoe;

import dev.netboot.storage.BlockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.netboot.metrics.RateLimitedLog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Carries out the responder's effects against the stores and encodes the replies into a sink.
 * Reads are encoded in place: the ATA header goes into the sink's buffer and the store reads the
 * sectors straight behind it, so read data is copied once (page cache to frame).
 *
 * <p>Flushes may be slow (fdatasync): with a flush executor they run there and their reply is
 * sent from that thread through {@code asyncSink}, so reads and writes of other requests do not
 * wait behind them.
 */
public final class EffectRunner {

    private static final Logger log = LoggerFactory.getLogger(EffectRunner.class);
    private final RateLimitedLog ioErrors = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));

    private final AoeResponder responder;
    private final StorageDirectory storage;
    private final Executor flushExecutor;
    private final FrameSink asyncSink;

    /** With a null executor, flushes run inline before the next effect. */
    public EffectRunner(AoeResponder responder, StorageDirectory storage, Executor flushExecutor, FrameSink asyncSink) {
        this.responder = responder;
        this.storage = storage;
        this.flushExecutor = flushExecutor;
        this.asyncSink = asyncSink;
    }

    public void run(List<Effect> effects, FrameSink sink) {
        for (Effect e : effects) {
            switch (e) {
                case Effect.Send s -> send(s.frame(), sink);
                case Effect.Read r -> read(r, sink);
                case Effect.Write w -> {
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
                    if (flushExecutor == null) send(flush(f), sink);
                    else flushExecutor.execute(() -> send(flush(f), asyncSink));
                }
                case Effect.SaveState s -> storage.saveState(s.target(), s.state());
            }
        }
    }

    private AoeFrame flush(Effect.Flush f) {
        BlockStore store = storage.store(f.target());
        try {
            if (store == null) throw new IOException("target e" + f.target() + " was removed");
            store.flush();
            return f.reply();
        } catch (IOException ex) {
            ioErrors.warn("flush of e" + f.target() + " failed: " + ex.getMessage());
            return responder.ioFailed(f.reply());
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
