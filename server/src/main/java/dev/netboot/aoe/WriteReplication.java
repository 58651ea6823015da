package dev.netboot.aoe;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Where client writes and flushes of a replicated target go instead of straight to its store (the
 * app wires the replication adapter in; this package knows nothing of it). Both calls return at once;
 * {@code done} is called later, from another thread, with whether the operation succeeded where the
 * protocol promises (protocol C: on both servers). The reply then goes out asynchronously, as a
 * deferred FLUSH reply does, so the receive thread never waits for the network.
 */
public interface WriteReplication {

    /** Whether writes to this target are replicated (this node is primary and the peer holds the disk). */
    boolean replicates(TargetAddress target);

    /** {@code data} is the caller's own copy (the frame buffer it came in is reused). */
    void write(TargetAddress target, long offset, ByteBuffer data, Consumer<Boolean> done);

    void flush(TargetAddress target, Consumer<Boolean> done);

    /**
     * {@link #write}, except that it may wait for this thread's next {@link #handOver}: a receive thread holds
     * the writes of one received batch and hands them over together (one wake-up of the replication's thread
     * per batch, not per write). Order with {@link #write} and {@link #flush} calls is kept.
     */
    default void writeHeld(TargetAddress target, long offset, ByteBuffer data, Consumer<Boolean> done) {
        write(target, offset, data, done);
    }

    /** Hands over every write {@link #writeHeld} left waiting. */
    default void handOver() { }
}
