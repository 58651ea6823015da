package dev.netboot.replication;

import dev.netboot.replication.PeerLink.LinkEffect;
import dev.netboot.replication.ReplicaEffect.*;
import dev.netboot.replication.ReplicationMessage.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DRBD's test shape with every piece of the core and byte arrays for disks: two nodes, writes while
 * connected, a broken link, writes on the primary alone, a new connection, a quick resync, and at the
 * end the digests of both copies compared. The harness plays the adapters and completes I/O at once.
 */
class TwoNodeSimulationTest {

    static final int SIZE = 8 << 20;
    static final int REGION = 4096;
    static final byte[] SECRET = "simulation secret".getBytes();

    final class Node {
        final byte[] store = new byte[SIZE];
        final DiskReplica disk;
        final long id;
        final Role role;
        PeerLink link;
        ResyncPlanner planner;
        GenerationIds peerIds;   // as the adapter learns them: the Hello, then GenerationUpdates
        long resyncBytesReceived;
        final List<Long> acked = new ArrayList<>();

        ByteBuffer lastActivityLog;   // the newest transaction this node made durable

        Node(long id, Role role, GenerationIds ids) {
            this(id, role, ids, new DirtyBitmap(SIZE, REGION), new ActivityLog(1 << 20, 16));
        }

        Node(long id, Role role, GenerationIds ids, DirtyBitmap bitmap, ActivityLog al) {
            this.id = id;
            this.role = role;
            this.disk = new DiskReplica("pc-9", SIZE, role, ids, bitmap, al, new Random(id)::nextLong);
        }

        List<LinkEffect> connect(int nonce) {
            link = new PeerLink(id, role, SECRET, ReplicationCodecProperties.nonce(nonce), Map.of("pc-9", disk), PeerLink.Settings.DEFAULT);
            return link.start(0);
        }

        /** Carries out effects; returns the bytes to send. */
        List<ByteBuffer> run(List<LinkEffect> effects) {
            List<ByteBuffer> wire = new ArrayList<>();
            for (LinkEffect e : effects) {
                switch (e) {
                    case LinkEffect.SendBytes b -> wire.add(b.bytes());
                    case LinkEffect.ForDisk f -> wire.addAll(diskEffect(f.effect()));
                    case LinkEffect.ReadForPeer r -> wire.addAll(bytesOf(link.resyncAnswer(r.disk(), r.ranges().stream()
                            .map(x -> new Piece(x.offset(), x.length(), Holding.DATA)).toList(), dataOf(r.ranges()), 0)));
                    case LinkEffect.Deliver d -> wire.addAll(deliver(d.message()));
                    case LinkEffect.Refused r -> throw new AssertionError("refused: " + r);
                    default -> { }
                }
            }
            return wire;
        }

        List<ByteBuffer> direct(List<ReplicaEffect> effects) {
            List<ByteBuffer> wire = new ArrayList<>();
            for (ReplicaEffect e : effects) wire.addAll(diskEffect(e));
            return wire;
        }

        List<ByteBuffer> diskEffect(ReplicaEffect e) {
            return switch (e) {
                case SendToPeer s -> link == null || link.state() != PeerLink.State.ESTABLISHED ? List.of() : bytesOf(link.send(s.message(), 0));
                case WriteLocal w -> {
                    w.data().duplicate().get(store, (int) w.offset(), w.data().remaining());
                    yield disk.role() == Role.PRIMARY ? direct(disk.localWriteDone(w.tag(), true)) : direct(disk.peerWriteDone(w.tag(), true));
                }
                case AckClient a -> {
                    acked.add(a.tag());
                    yield List.of();
                }
                case PersistActivityLog l -> {
                    lastActivityLog = l.transaction();
                    yield List.of();
                }
                default -> List.of();
            };
        }

        List<ByteBuffer> deliver(ReplicationMessage m) {
            switch (m) {
                case BitmapChunk c when disk.state() == ReplicaState.SYNC_TARGET -> {
                    planner = new ResyncPlanner("pc-9", disk.bitmap(), 64 * 1024, 8, new TokenBucket(0, 1, 0), 0);
                    return requests();
                }
                case Hello h -> {
                    peerIds = h.disks().getFirst().ids();
                    return List.of();
                }
                case GenerationUpdate g -> {
                    peerIds = g.ids();
                    return List.of();
                }
                case ResyncAnswer a -> {
                    ByteBuffer data = a.data().duplicate();
                    for (Piece p : a.pieces()) {
                        data.get(store, (int) p.offset(), p.length());
                        resyncBytesReceived += p.length();
                        assertThat(planner.completed(p.offset(), p.length(), p.length())).isTrue();
                    }
                    if (planner.finished()) return direct(disk.resyncComplete(source().resyncedAsSource()));
                    return requests();
                }
                default -> { return List.of(); }
            }
        }

        /** The asked ranges' bytes of this node's disk, one after another. */
        ByteBuffer dataOf(List<Range> ranges) {
            ByteBuffer out = ByteBuffer.allocate(ranges.stream().mapToInt(Range::length).sum());
            for (Range x : ranges) out.put(store, (int) x.offset(), x.length());
            return out.flip();
        }

        GenerationIds source() { return sourceIds != null ? sourceIds : peerIds; }

        List<ByteBuffer> requests() {
            List<ByteBuffer> wire = new ArrayList<>();
            for (ResyncRequest r : planner.next(0)) wire.addAll(bytesOf(link.send(r, 0)));
            if (planner.finished()) wire.addAll(direct(disk.resyncComplete(source().resyncedAsSource())));
            return wire;
        }
    }

    GenerationIds sourceIds;   // what the source's Hello carried (the harness reads it off the primary)

    static List<ByteBuffer> bytesOf(List<LinkEffect> effects) {
        List<ByteBuffer> out = new ArrayList<>();
        for (LinkEffect e : effects) if (e instanceof LinkEffect.SendBytes b) out.add(b.bytes());
        return out;
    }

    static void pump(Node a, List<ByteBuffer> toB, Node b, List<ByteBuffer> toA) {
        for (int round = 0; !toA.isEmpty() || !toB.isEmpty(); round++) {
            assertThat(round).isLessThan(100_000);
            List<ByteBuffer> nextToA = new ArrayList<>(), nextToB = new ArrayList<>();
            for (ByteBuffer buf : toB) nextToA.addAll(b.run(b.link.received(buf.duplicate(), 0)));
            for (ByteBuffer buf : toA) nextToB.addAll(a.run(a.link.received(buf.duplicate(), 0)));
            toA = nextToA;
            toB = nextToB;
        }
    }

    /** A primary and a standby from the same new identifiers, connected and through their handshake. */
    Node[] connectedPair() {
        GenerationIds start = GenerationIds.created(new Random(1)::nextLong);
        Node primary = new Node(1, Role.PRIMARY, start), standby = new Node(2, Role.STANDBY, start);
        pump(primary, primary.run(primary.connect(1)), standby, standby.run(standby.connect(2)));
        return new Node[]{primary, standby};
    }

    static String md5(byte[] b) throws Exception { return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b)); }

    void write(Node primary, Node standby, long tag, Random random) {
        int offset = random.nextInt(SIZE / REGION) * REGION;
        byte[] data = new byte[REGION];
        random.nextBytes(data);
        pump(primary, primary.direct(primary.disk.submitWrite(tag, offset, ByteBuffer.wrap(data), false)), standby, List.of());
    }

    @Test
    void writesAloneAreQuickResyncedAndBothCopiesEndIdentical() throws Exception {
        Node[] pair = connectedPair();
        Node primary = pair[0], standby = pair[1];
        assertThat(primary.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);

        Random random = new Random(42);
        for (long tag = 1; tag <= 200; tag++) write(primary, standby, tag, random);
        assertThat(primary.acked).hasSize(200);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));
        // The standby answered a flush (ReplicationNode's barrier): all 200 are durable there.
        primary.disk.peerFlushed(primary.disk.nextWriteSeq());

        // The link breaks; the primary goes on alone.
        primary.run(primary.link.socketClosed("cable pulled"));
        standby.run(standby.link.socketClosed("cable pulled"));
        assertThat(primary.disk.state()).isEqualTo(ReplicaState.DEGRADED);
        assertThat(standby.disk.state()).isEqualTo(ReplicaState.OUTDATED);
        for (long tag = 201; tag <= 300; tag++) write(primary, standby, tag, random);
        assertThat(primary.acked).hasSize(300);
        long dirty = primary.disk.bitmap().dirtyRegions();
        assertThat(dirty).isBetween(90L, 100L);        // 100 random regions, a few hit twice
        assertThat(md5(standby.store)).isNotEqualTo(md5(primary.store));

        // A new connection: the primary is the source, only the dirty regions move.
        sourceIds = primary.disk.ids();
        pump(primary, primary.run(primary.connect(3)), standby, standby.run(standby.connect(4)));
        assertThat(standby.resyncBytesReceived).isEqualTo(dirty * REGION);
        assertThat(primary.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standby.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));
        assertThat(standby.disk.ids().current()).isEqualTo(primary.disk.ids().current());
        assertThat(primary.disk.ids().bitmap()).isZero();
        assertThat(GenerationComparison.decide(primary.disk.ids(), standby.disk.ids(), true).decision()).isEqualTo(SyncDecision.NO_SYNC);

        // And replication goes on as before.
        for (long tag = 301; tag <= 350; tag++) write(primary, standby, tag, random);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));
    }

    /**
     * Online verify's marks while both copies are in sync by their identifiers: resynced at once from the primary,
     * whichever side ran the verify, not left until some outage changes the identifiers.
     */
    @Test
    void regionsMarkedWhileInSyncAreResyncedAtOnceFromThePrimaryWhicheverSideMarkedThem() throws Exception {
        Node[] pair = connectedPair();
        Node primary = pair[0], standby = pair[1];
        Random random = new Random(11);
        for (long tag = 1; tag <= 30; tag++) write(primary, standby, tag, random);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));

        // Changed behind the replication's back on the standby; its verify marks the two regions and offers them.
        standby.store[7 * REGION + 100] ^= 0x5a;
        standby.store[300 * REGION] ^= 0x5a;
        standby.disk.bitmap().markBytes(7 * REGION, REGION);
        standby.disk.bitmap().markBytes(300 * REGION, REGION);
        pump(primary, List.of(), standby, standby.direct(standby.disk.offerMarks()));
        assertThat(standby.resyncBytesReceived).isEqualTo(2L * REGION);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));
        assertThat(primary.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standby.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(primary.disk.bitmap().isClean()).isTrue();
        assertThat(standby.disk.ids().current()).isEqualTo(primary.disk.ids().current());

        // The same on the primary's side (its verify marked one region); replication goes on after it.
        standby.store[40 * REGION] ^= 0x5a;
        primary.disk.bitmap().markBytes(40 * REGION, REGION);
        pump(primary, primary.direct(primary.disk.resyncMarked()), standby, List.of());
        for (long tag = 31; tag <= 40; tag++) write(primary, standby, tag, random);
        assertThat(standby.resyncBytesReceived).isEqualTo(3L * REGION);
        assertThat(md5(standby.store)).isEqualTo(md5(primary.store));
        assertThat(primary.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standby.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);

        // Nothing marked: nothing happens (no new identifier per verify that found nothing).
        GenerationIds before = primary.disk.ids();
        assertThat(primary.disk.resyncMarked()).isEmpty();
        assertThat(standby.disk.offerMarks()).isEmpty();
        assertThat(primary.disk.ids()).isEqualTo(before);
    }

    /** DRBD's split-brain test: both write while apart, both detect it, nothing moves until the operator discards one side. */
    @Test
    void splitBrainIsDetectedOnBothSidesAndResolvedOnlyByTheOperator() throws Exception {
        Node[] pair = connectedPair();
        Node a = pair[0], b = pair[1];
        Random random = new Random(7);
        for (long tag = 1; tag <= 50; tag++) write(a, b, tag, random);
        a.disk.peerFlushed(a.disk.nextWriteSeq());         // b synced them (a barrier): not marked when the link goes

        a.run(a.link.socketClosed("partition"));
        b.run(b.link.socketClosed("partition"));
        b.disk.promote();                                  // the standby wrongly took over
        for (long tag = 51; tag <= 60; tag++) write(a, b, tag, random);
        for (long tag = 1001; tag <= 1010; tag++) write(b, a, tag, random);
        String bBefore = md5(b.store);

        pump(a, a.run(a.connect(3)), b, b.run(b.connect(4)));
        assertThat(a.disk.state()).isEqualTo(ReplicaState.SPLIT_BRAIN);
        assertThat(b.disk.state()).isEqualTo(ReplicaState.SPLIT_BRAIN);
        assertThat(md5(b.store)).as("nothing overwritten before the operator decides").isEqualTo(bBefore);

        // netboot replication resolve pc-9 --discard B
        b.disk.demote();
        sourceIds = a.disk.ids();
        pump(a, List.of(), b, b.direct(b.disk.discardLocalData(a.disk.ids())));
        assertThat(a.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(b.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        // Quick: only the regions either side wrote while apart moved.
        assertThat(b.resyncBytesReceived).isLessThanOrEqualTo(20L * REGION);
        assertThat(md5(b.store)).isEqualTo(md5(a.store));
    }

    /**
     * DRBD's "resync after a primary crash": writes in flight reach the primary's disk but never the
     * peer, the primary dies, comes back as primary with the crashed flag, and only its activity-log
     * extents are resynced; both copies end identical.
     */
    @Test
    void afterAPrimaryCrashOnlyTheActivityLogExtentsAreResynced() throws Exception {
        GenerationIds start = GenerationIds.created(new Random(1)::nextLong);
        long extent = 64 * 1024;   // a small log (4 slots of 64 KiB) so "only the log" is visibly less than the disk
        Node primary = new Node(1, Role.PRIMARY, start, new DirtyBitmap(SIZE, REGION), new ActivityLog(extent, 4));
        Node standby = new Node(2, Role.STANDBY, start);
        pump(primary, primary.run(primary.connect(1)), standby, standby.run(standby.connect(2)));
        Random random = new Random(9);
        for (long tag = 1; tag <= 100; tag++) write(primary, standby, tag, random);

        // Three writes land on the primary's disk; the process dies before they are sent.
        for (long tag = 101; tag <= 103; tag++) {
            byte[] data = new byte[REGION];
            random.nextBytes(data);
            int offset = random.nextInt(SIZE / REGION) * REGION;
            for (ReplicaEffect e : primary.disk.submitWrite(tag, offset, ByteBuffer.wrap(data), false)) {
                if (e instanceof PersistActivityLog l) primary.lastActivityLog = l.transaction();
                if (e instanceof WriteLocal w) w.data().duplicate().get(primary.store, (int) w.offset(), REGION);
            }
        }
        assertThat(md5(standby.store)).isNotEqualTo(md5(primary.store));
        standby.run(standby.link.socketClosed("peer reset"));

        // Restart: identifiers with the crashed flag, the bitmap from disk, the activity log's extents marked into it.
        ActivityLog.Transaction t = ActivityLog.readTransaction(primary.lastActivityLog).orElseThrow();
        DirtyBitmap bitmap = new DirtyBitmap(SIZE, REGION);
        ActivityLog al = ActivityLog.restore(t, 4);
        al.markIn(bitmap);
        Node restarted = new Node(1, Role.PRIMARY, primary.disk.ids().withCrashedPrimary(true), bitmap, al);
        System.arraycopy(primary.store, 0, restarted.store, 0, SIZE);
        sourceIds = restarted.disk.ids();

        pump(restarted, restarted.run(restarted.connect(5)), standby, standby.run(standby.connect(6)));
        assertThat(restarted.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standby.disk.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(md5(standby.store)).isEqualTo(md5(restarted.store));
        // Only the logged extents moved: at most 4 × 64 KiB of the 8 MiB disk.
        assertThat(t.extents()).hasSizeBetween(3, 4);
        assertThat(standby.resyncBytesReceived).isEqualTo(t.extents().size() * extent);
        assertThat(restarted.disk.ids().crashedPrimary()).isFalse();
    }
}
