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
}
