package dev.netboot.replication;

import dev.netboot.replication.PeerLink.LinkEffect;
import dev.netboot.replication.RejectedFrameException.Reason;
import dev.netboot.replication.ReplicaEffect.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Two links back to back in memory: the bytes one sends are what the other receives. */
class PeerLinkTest {

    static final long SIZE = 16L << 20;
    static final long SECOND = 1_000_000_000L;
    static final GenerationIds SHARED = new GenerationIds(77, 0, List.of(), false);

    final DiskReplica primaryDisk = disk(Role.PRIMARY);
    final DiskReplica standbyDisk = disk(Role.STANDBY);

    static DiskReplica disk(Role role) {
        return new DiskReplica("pc-1", SIZE, role, SHARED, new DirtyBitmap(SIZE, 4096), new ActivityLog(1 << 20, 8), new AtomicLong(900)::incrementAndGet);
    }

    PeerLink link(long id, Role role, DiskReplica d, byte[] secret, int nonce) {
        return new PeerLink(id, role, secret, ReplicationCodecProperties.nonce(nonce), Map.of("pc-1", d), PeerLink.Settings.DEFAULT);
    }

    static List<ByteBuffer> bytes(List<LinkEffect> effects) {
        List<ByteBuffer> out = new ArrayList<>();
        for (LinkEffect e : effects) if (e instanceof LinkEffect.SendBytes s) out.add(s.bytes());
        return out;
    }

    /** Delivers every byte each side sends, one byte at a time to exercise reassembly, until both are quiet. */
    static List<LinkEffect> pump(PeerLink a, List<LinkEffect> fromA, PeerLink b, List<LinkEffect> fromB, long now, List<LinkEffect> seenByA) {
        List<LinkEffect> seenByB = new ArrayList<>();
        for (int round = 0; !fromA.isEmpty() || !fromB.isEmpty(); round++) {
            assertThat(round).as("the links keep talking").isLessThan(100);
            List<LinkEffect> nextB = new ArrayList<>(), nextA = new ArrayList<>();
            for (ByteBuffer buf : bytes(fromA)) {
                for (int i = buf.position(); i < buf.limit(); i++) nextB.addAll(b.received(buf.slice(i, 1), now).stream().peek(seenByB::add).toList());
            }
            for (ByteBuffer buf : bytes(fromB)) nextA.addAll(a.received(buf.duplicate(), now).stream().peek(seenByA::add).toList());
            fromA = nextA;
            fromB = nextB;
        }
        return seenByB;
    }

    @Test
    void handshakeThenAReplicatedWriteIsAckedAfterBothCopies() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, secret, 1), s = link(2, Role.STANDBY, standbyDisk, secret, 2);
        List<LinkEffect> seenByP = new ArrayList<>();
        pump(p, p.start(0), s, s.start(0), 0, seenByP);
        assertThat(p.state()).isEqualTo(PeerLink.State.ESTABLISHED);
        assertThat(s.state()).isEqualTo(PeerLink.State.ESTABLISHED);
        assertThat(primaryDisk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standbyDisk.state()).isEqualTo(ReplicaState.UP_TO_DATE);

        // A client write: the primary's link sends the Write, the standby's link asks for a local write.
        List<LinkEffect> fromP = new ArrayList<>();
        for (ReplicaEffect e : primaryDisk.submitWrite(5, 4096, ByteBuffer.allocate(4096), false))
            if (e instanceof SendToPeer sp) fromP.addAll(p.send(sp.message(), 0));
        List<LinkEffect> seenByS = pump(p, fromP, s, List.of(), 0, seenByP);
        assertThat(seenByS).contains(new LinkEffect.ForDisk("pc-1", new WriteLocal(1, 4096, ByteBuffer.allocate(4096), false)));
        // Standby's write lands → WriteAck → primary; the client is acked once the primary's local write is in too.
        List<LinkEffect> ack = new ArrayList<>();
        for (ReplicaEffect e : standbyDisk.peerWriteDone(1, true)) if (e instanceof SendToPeer sp) ack.addAll(s.send(sp.message(), 0));
        seenByP.clear();
        pump(p, List.of(), s, ack, 0, seenByP);
        assertThat(seenByP).noneMatch(e -> e instanceof LinkEffect.ForDisk f && f.effect() instanceof AckClient);
        assertThat(primaryDisk.localWriteDone(5, true)).containsExactly(new AckClient(5, true));
    }

    @Test
    void aPeerWithoutTheSecretIsRefusedCountedAndTheDiskGoesOnAlone() {
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, "right".getBytes(), 1), s = link(2, Role.STANDBY, standbyDisk, "wrong".getBytes(), 2);
        List<LinkEffect> seenByP = new ArrayList<>();
        pump(p, p.start(0), s, s.start(0), 0, seenByP);
        assertThat(seenByP).anyMatch(e -> e instanceof LinkEffect.Refused r && r.reason() == Reason.BAD_MAC);
        assertThat(p.state()).isEqualTo(PeerLink.State.CLOSED);
        assertThat(primaryDisk.state()).isEqualTo(ReplicaState.DEGRADED);
        // Nothing from the stranger was applied: the identifiers are untouched.
        assertThat(primaryDisk.ids()).isEqualTo(SHARED);
    }

    @Test
    void aReplayedFrameClosesTheLinkAndIsNotApplied() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, secret, 1), s = link(2, Role.STANDBY, standbyDisk, secret, 2);
        pump(p, p.start(0), s, s.start(0), 0, new ArrayList<>());
        List<LinkEffect> ping = p.send(new ReplicationMessage.Ping(1), 0);
        ByteBuffer frame = bytes(ping).getFirst();
        s.received(frame.duplicate(), 0);
        List<LinkEffect> again = s.received(frame.duplicate(), 0);
        assertThat(again).anyMatch(e -> e instanceof LinkEffect.Refused r && r.reason() == Reason.REPLAYED);
        assertThat(again).anyMatch(e -> e instanceof LinkEffect.Close);
        assertThat(standbyDisk.state()).isEqualTo(ReplicaState.OUTDATED);
    }

    @Test
    void anOversizedLengthIsRefusedBeforeBuffering() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, secret, 1), s = link(2, Role.STANDBY, standbyDisk, secret, 2);
        pump(p, p.start(0), s, s.start(0), 0, new ArrayList<>());
        List<LinkEffect> out = s.received(ByteBuffer.allocate(4).putInt(0, 1 << 30), 0);
        assertThat(out).anyMatch(e -> e instanceof LinkEffect.Refused r && r.reason() == Reason.OVERSIZED);
    }

    @Test
    void aStrangerIsRefusedFromItsFirstBytes() {
        PeerLink s = link(2, Role.STANDBY, standbyDisk, "x".getBytes(), 2);
        s.start(0);
        List<LinkEffect> out = s.received(ByteBuffer.wrap("GET / HTTP/1.1\r\n".getBytes()), 0);
        assertThat(out).anyMatch(e -> e instanceof LinkEffect.Refused r && r.reason() == Reason.BAD_PREAMBLE);
        assertThat(s.state()).isEqualTo(PeerLink.State.CLOSED);
        assertThat(standbyDisk.state()).isEqualTo(ReplicaState.CONNECTING);   // never had a peer
    }

    @Test
    void anIdlePeerIsPingedAndASilentOneIsDeclaredGone() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, secret, 1), s = link(2, Role.STANDBY, standbyDisk, secret, 2);
        pump(p, p.start(0), s, s.start(0), 0, new ArrayList<>());
        assertThat(p.tick(SECOND / 2)).isEmpty();
        List<LinkEffect> ping = p.tick(SECOND);
        assertThat(bytes(ping)).hasSize(1);
        List<LinkEffect> seenByP = new ArrayList<>();
        pump(p, ping, s, List.of(), SECOND, seenByP);   // the Pong counts as life
        assertThat(p.tick(3 * SECOND)).noneMatch(e -> e instanceof LinkEffect.Close);
        List<LinkEffect> dead = p.tick(4 * SECOND + 1);
        assertThat(dead).anyMatch(e -> e instanceof LinkEffect.Close c && c.reason().contains("silent"));
        assertThat(primaryDisk.state()).isEqualTo(ReplicaState.DEGRADED);
    }

    @Test
    void twoNodesWithOneIdRefuseEachOther() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = link(7, Role.PRIMARY, primaryDisk, secret, 1), s = link(7, Role.STANDBY, standbyDisk, secret, 2);
        List<LinkEffect> seenByP = new ArrayList<>();
        pump(p, p.start(0), s, s.start(0), 0, seenByP);
        assertThat(seenByP).anyMatch(e -> e instanceof LinkEffect.Close c && c.reason().contains("node id"));
    }

    @Test
    void aDiskThePeerDoesNotHaveGoesOnWithoutIt() {
        byte[] secret = "s3cret".getBytes();
        DiskReplica other = new DiskReplica("pc-2", SIZE, Role.STANDBY, SHARED, new DirtyBitmap(SIZE, 4096), new ActivityLog(1 << 20, 8), () -> 5);
        PeerLink p = link(1, Role.PRIMARY, primaryDisk, secret, 1);
        PeerLink s = new PeerLink(2, Role.STANDBY, secret, ReplicationCodecProperties.nonce(2), Map.of("pc-2", other), PeerLink.Settings.DEFAULT);
        pump(p, p.start(0), s, s.start(0), 0, new ArrayList<>());
        assertThat(primaryDisk.state()).isEqualTo(ReplicaState.DEGRADED);
        assertThat(other.state()).isEqualTo(ReplicaState.OUTDATED);
    }

    // ---------------------------------------------------------------- batching (one frame per loop turn)

    static PeerLink batching(long id, Role role, DiskReplica d, byte[] secret, int nonce) {
        PeerLink.Settings def = PeerLink.Settings.DEFAULT;
        return new PeerLink(id, role, secret, ReplicationCodecProperties.nonce(nonce), Map.of("pc-1", d),
                new PeerLink.Settings(def.maxFrame(), def.pingInterval(), def.timeout(), true));
    }

    /** One turn of the receiver's loop: every frame in, then one flush of what it has to say. */
    static List<LinkEffect> turn(PeerLink to, List<ByteBuffer> frames, List<LinkEffect> seen) {
        List<LinkEffect> out = new ArrayList<>();
        for (ByteBuffer f : frames) out.addAll(to.received(f.duplicate(), 0));
        seen.addAll(out);
        out.addAll(to.flush());
        return out;
    }

    @Test
    void withBatchingATurnOfWritesCrossesAsOneFrameAndItsAcksAsOneFrame() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = batching(1, Role.PRIMARY, primaryDisk, secret, 1), s = batching(2, Role.STANDBY, standbyDisk, secret, 2);
        List<LinkEffect> seenByP = new ArrayList<>(), seenByS = new ArrayList<>();
        List<LinkEffect> fromP = p.start(0), fromS = s.start(0);
        for (int round = 0; round < 10 && (!bytes(fromP).isEmpty() || !bytes(fromS).isEmpty()); round++) {
            List<LinkEffect> toS = turn(s, bytes(fromP), seenByS), toP = turn(p, bytes(fromS), seenByP);
            fromP = toP;
            fromS = toS;
        }
        assertThat(primaryDisk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standbyDisk.state()).isEqualTo(ReplicaState.UP_TO_DATE);

        // 50 client writes within one turn: sends wait in the outbox, then go out as ONE frame.
        List<LinkEffect> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++)
            for (ReplicaEffect e : primaryDisk.submitWrite(100 + i, i * 1024L, ByteBuffer.allocate(1024).put(0, (byte) i), false))
                if (e instanceof SendToPeer sp) sent.addAll(p.send(sp.message(), 0));
        assertThat(bytes(sent)).as("nothing leaves before the flush").isEmpty();
        assertThat(p.hasOutbox()).isTrue();
        List<ByteBuffer> writeFrames = bytes(p.flush());
        assertThat(writeFrames).hasSize(1);
        assertThat(p.hasOutbox()).isFalse();

        // The standby applies all 50 in order (one local write each, seq 1..50)...
        seenByS.clear();
        turn(s, writeFrames, seenByS);
        List<Long> applied = seenByS.stream().filter(e -> e instanceof LinkEffect.ForDisk f && f.effect() instanceof WriteLocal)
                .map(e -> ((WriteLocal) ((LinkEffect.ForDisk) e).effect()).tag()).toList();
        assertThat(applied).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());
        // ...and a batch of completions is acked in one frame too.
        for (long seq = 1; seq <= 50; seq++)
            for (ReplicaEffect e : standbyDisk.peerWriteDone(seq, true)) if (e instanceof SendToPeer sp) s.send(sp.message(), 0);
        List<ByteBuffer> ackFrames = bytes(s.flush());
        assertThat(ackFrames).hasSize(1);
        for (int i = 0; i < 50; i++) primaryDisk.localWriteDone(100 + i, true);
        seenByP.clear();
        turn(p, ackFrames, seenByP);
        assertThat(seenByP.stream().filter(e -> e instanceof LinkEffect.ForDisk f && f.effect() instanceof AckClient a && a.ok()).count()).isEqualTo(50);
    }

    @Test
    void withBatchingACloseSendsWhatWasSaidBeforeTheDisconnect() {
        byte[] secret = "s3cret".getBytes();
        PeerLink p = batching(1, Role.PRIMARY, primaryDisk, secret, 1), s = batching(2, Role.STANDBY, standbyDisk, secret, 2);
        List<LinkEffect> fromP = p.start(0), fromS = s.start(0);
        for (int round = 0; round < 10 && (!bytes(fromP).isEmpty() || !bytes(fromS).isEmpty()); round++) {
            List<LinkEffect> toS = turn(s, bytes(fromP), new ArrayList<>()), toP = turn(p, bytes(fromS), new ArrayList<>());
            fromP = toP;
            fromS = toS;
        }
        p.send(new ReplicationMessage.RoleAnnouncement(Role.PRIMARY, 7), 0);
        List<LinkEffect> closing = p.socketClosed("shutting down");
        // The queued announcement and the Disconnect leave before the Close, in that order.
        int close = closing.indexOf(closing.stream().filter(e -> e instanceof LinkEffect.Close).findFirst().orElseThrow());
        assertThat(bytes(closing.subList(0, close))).isNotEmpty();
        List<LinkEffect> seenByS = new ArrayList<>();
        turn(s, bytes(closing), seenByS);
        assertThat(seenByS).contains(new LinkEffect.Deliver(new ReplicationMessage.RoleAnnouncement(Role.PRIMARY, 7)));
        assertThat(seenByS).anyMatch(e -> e instanceof LinkEffect.Close c && c.reason().contains("shutting down"));
    }
}
