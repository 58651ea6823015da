package dev.netboot.replication;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * What a {@link DiskReplica} asks its adapter to do. The adapter carries out the effects of one input
 * in list order on its I/O thread (never the AoE receive thread): {@link SendToPeer} queues on the
 * channel and {@link WriteLocal} is started without waiting for it (its completion comes back as
 * {@link DiskReplica#localWriteDone}); the persist effects are small synchronous writes that are
 * durable before the next effect runs, which is what lets an {@link AckClient} after them rely on them.
 */
public sealed interface ReplicaEffect {

    record SendToPeer(ReplicationMessage message) implements ReplicaEffect {}

    /**
     * Write {@code data} at {@code offset} of the local copy, then fdatasync if {@code durable}.
     * {@code tag} is the client write's (primary) or the peer write's sequence number (standby).
     */
    record WriteLocal(long tag, long offset, ByteBuffer data, boolean durable) implements ReplicaEffect {}

    /**
     * Make the activity log durable before the write that needed it starts: first the bitmap words
     * of the {@code evicted} extents (their dirty bits must survive a crash now that the log no longer
     * names them), then {@code transaction} into the older of the two log blocks.
     */
    record PersistActivityLog(ByteBuffer transaction, List<Long> evicted, long extentSize) implements ReplicaEffect {
        public PersistActivityLog { evicted = List.copyOf(evicted); }
    }

    record PersistGenerationIds(GenerationIds ids) implements ReplicaEffect {}

    /** Write the whole bitmap (on a state change that must survive a restart: split brain, resync start). */
    record PersistBitmap() implements ReplicaEffect {}

    /** Answer the client's write: done ({@code ok}) or failed (an ATA error, so the client retries or reports). */
    record AckClient(long tag, boolean ok) implements ReplicaEffect {}

    /** The state changed, or something a person must know happened: log it and update metrics. */
    record Report(ReplicaState state, String message) implements ReplicaEffect {}
}
