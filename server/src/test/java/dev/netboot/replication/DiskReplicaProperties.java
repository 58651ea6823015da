package dev.netboot.replication;

import dev.netboot.replication.ReplicaEffect.*;
import dev.netboot.replication.ReplicationMessage.Write;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A primary's disk under any interleaving of client writes, local completions (some failing), peer
 * acks and nacks, lost links, reconnects and finished resyncs, with a tiny activity log so writes also
 * wait for slots. The effects are checked against what protocol C promises.
 */
class DiskReplicaProperties {

    static final long SIZE = 8L << 20;
    static final long EXTENT = 1L << 20;

    record Step(Op op, int a, int b) {}

    enum Op { WRITE, LOCAL_DONE, LOCAL_FAILS, PEER_ACK, PEER_NACK, PEER_LOST, RECONNECT, RESYNC_DONE }

    /** One write as the test sees it. */
    static final class W {
        final long tag, offset, length;
        long seq = -1;
        int epoch;               // connection it was sent on
        boolean started, localDone, localOk, peerAcked, peerNacked, acked, ackOk;
        W(long tag, long offset, long length) { this.tag = tag; this.offset = offset; this.length = length; }
    }

    final class Run {
        final GenerationIds shared = new GenerationIds(42, 0, List.of(), false);
        final ActivityLog al = new ActivityLog(EXTENT, 3);
        final DiskReplica r = new DiskReplica("d", SIZE, Role.PRIMARY, shared, new DirtyBitmap(SIZE, 4096), al, new AtomicLong(100)::incrementAndGet);
        final Map<Long, W> writes = new HashMap<>();
        final Map<Long, W> bySeq = new HashMap<>();
        final Set<W> aloneAcked = new HashSet<>();   // acked without the peer's ack: must stay in the bitmap
        GenerationIds peerIds = shared;
        GenerationIds lastPersisted = shared;
        int epoch;
        boolean connected;

        void apply(List<ReplicaEffect> out) {
            Write sending = null;
            for (ReplicaEffect e : out) {
                switch (e) {
                    case SendToPeer s when s.message() instanceof Write w -> sending = w;
                    case WriteLocal l -> {
                        W w = writes.get(l.tag());
                        assertThat(w.started).as("write %d started twice", l.tag()).isFalse();
                        w.started = true;
                        if (sending != null) {
                            assertThat(connected).isTrue();
                            w.seq = sending.seq();
                            w.epoch = epoch;
                            bySeq.put(w.seq, w);
                            sending = null;
                        }
                        // The activity log names every extent a started write touches.
                        for (long x = w.offset / EXTENT; x <= (w.offset + w.length - 1) / EXTENT; x++) assertThat(al.contains(x)).isTrue();
                    }
                    case PersistGenerationIds p -> lastPersisted = p.ids();
                    case AckClient a -> {
                        W w = writes.get(a.tag());
                        assertThat(w.acked).as("write %d acked twice", a.tag()).isFalse();
                        assertThat(w.localDone).as("write %d acked before its local write completed", a.tag()).isTrue();
                        assertThat(a.ok()).isEqualTo(w.localOk);
                        if (w.seq >= 0 && w.epoch == epoch && connected && !w.peerNacked)
                            assertThat(w.peerAcked).as("write %d acked before the peer's ack", a.tag()).isTrue();
                        if (!w.peerAcked) {
                            aloneAcked.add(w);
                            // The node's new identifier was durable before this ack.
                            assertThat(lastPersisted.current()).isNotEqualTo(peerIds.current());
                        }
                        w.acked = true;
                        w.ackOk = a.ok();
                    }
                    default -> { }
                }
            }
            for (W w : aloneAcked)
                for (long o = w.offset; o < w.offset + w.length; o += 4096)
                    assertThat(r.bitmap().isDirty(r.bitmap().regionOf(o))).as("alone-acked write %d not in the bitmap", w.tag).isTrue();
        }

        W pick(List<W> candidates, int i) { return candidates.isEmpty() ? null : candidates.get(i % candidates.size()); }
    }

    @Property(tries = 1500)
    void protocolCHoldsUnderAnyInterleaving(@ForAll("ops") List<Step> ops) {
        Run run = new Run();
        run.apply(run.r.linkUp());
        run.apply(run.r.handshake(run.shared, SIZE, true));
        run.connected = true;
        long nextTag = 1;
        for (Step step : ops) {
            Op op = step.op();
            int[] o = {0, step.a(), step.b()};
            List<W> localOpen = run.writes.values().stream().filter(w -> w.started && !w.localDone).sorted((a, b) -> Long.compare(a.tag, b.tag)).toList();
            List<W> peerOpen = run.writes.values().stream().filter(w -> w.seq >= 0 && w.epoch == run.epoch && run.connected && !w.peerAcked && !w.peerNacked).sorted((a, b) -> Long.compare(a.tag, b.tag)).toList();
            switch (op) {
                case WRITE -> {
                    long offset = (o[1] % (SIZE / 512)) * 512;
                    long length = Math.min(512L * (1 + o[2] % 64), SIZE - offset);
                    W w = new W(nextTag++, offset, length);
                    run.writes.put(w.tag, w);
                    run.apply(run.r.submitWrite(w.tag, offset, ByteBuffer.allocate((int) length), false));
                }
                case LOCAL_DONE, LOCAL_FAILS -> {
                    W w = run.pick(localOpen, o[1]);
                    if (w == null) continue;
                    w.localDone = true;
                    w.localOk = op == Op.LOCAL_DONE;
                    run.apply(run.r.localWriteDone(w.tag, w.localOk));
                }
                case PEER_ACK -> {
                    W w = run.pick(peerOpen, o[1]);
                    if (w == null) continue;
                    w.peerAcked = true;
                    run.apply(run.r.peerAck(w.seq));
                }
                case PEER_NACK -> {
                    W w = run.pick(peerOpen, o[1]);
                    if (w == null) continue;
                    w.peerNacked = true;
                    // A failed peer write takes the disk off the link until the next handshake.
                    run.connected = false;
                    run.epoch++;
                    run.apply(run.r.peerNack(w.seq, "EIO"));
                    assertThat(run.r.state()).isEqualTo(ReplicaState.DEGRADED);
                }
                case PEER_LOST -> {
                    if (!run.connected) continue;
                    run.connected = false;
                    run.epoch++;
                    run.apply(run.r.peerLost());
                }
                case RECONNECT -> {
                    if (run.connected) continue;
                    run.apply(run.r.linkUp());
                    run.connected = true;
                    run.apply(run.r.handshake(run.peerIds, SIZE, true));
                    assertThat(run.r.state()).isIn(ReplicaState.UP_TO_DATE, ReplicaState.SYNC_SOURCE, ReplicaState.WAITING_HANDSHAKE);
                }
                case RESYNC_DONE -> {
                    if (run.r.state() != ReplicaState.SYNC_SOURCE) continue;
                    // The planner moved every dirty region; writes still in flight stay marked if they were alone.
                    run.r.resynced(0, SIZE);
                    run.aloneAcked.clear();
                    run.peerIds = GenerationIds.resyncedAsTarget(run.r.ids().resyncedAsSource());
                    run.apply(run.r.peerResyncDone());
                    assertThat(run.r.state()).isEqualTo(ReplicaState.UP_TO_DATE);
                }
            }
        }
        // Liveness: once every completion arrives, every write is acknowledged exactly once.
        for (int round = 0; round < 1000; round++) {
            List<W> open = run.writes.values().stream().filter(w -> w.started && !w.localDone).toList();
            List<W> peer = run.writes.values().stream().filter(w -> w.seq >= 0 && w.epoch == run.epoch && run.connected && !w.peerAcked && !w.peerNacked).toList();
            if (open.isEmpty() && peer.isEmpty()) break;
            for (W w : open) { w.localDone = true; w.localOk = true; run.apply(run.r.localWriteDone(w.tag, true)); }
            for (W w : peer) { w.peerAcked = true; run.apply(run.r.peerAck(w.seq)); }
        }
        assertThat(run.writes.values()).allMatch(w -> w.acked);
        assertThat(run.r.writesInFlight()).isZero();
    }

    @Provide
    Arbitrary<List<Step>> ops() {
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(Op.WRITE)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Op.LOCAL_DONE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.LOCAL_FAILS)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Op.PEER_ACK)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.PEER_NACK)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.PEER_LOST)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.RECONNECT)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.RESYNC_DONE)));
        return Combinators.combine(op, Arbitraries.integers().between(0, 1 << 20), Arbitraries.integers().between(0, 1000))
                .as(Step::new).list().ofMaxSize(80);
    }
}
