package dev.netboot.replication;

import dev.netboot.replication.ReplicaEffect.*;
import dev.netboot.replication.ReplicationMessage.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskReplicaTest {

    static final long SIZE = 64L << 20;
    static final GenerationIds SHARED = new GenerationIds(1111, 0, List.of(), false);

    static DiskReplica replica(Role role, GenerationIds ids, int slots) {
        AtomicLong next = new AtomicLong(5000);
        return new DiskReplica("pc-17", SIZE, role, ids, new DirtyBitmap(SIZE, 4096), new ActivityLog(1 << 20, slots), next::incrementAndGet);
    }

    static DiskReplica connectedPrimary() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 8);
        r.linkUp();
        r.handshake(SHARED, SIZE, true);
        assertThat(r.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        return r;
    }

    static ByteBuffer data(int n) { return ByteBuffer.allocate(n); }

    static List<Class<?>> kinds(List<ReplicaEffect> effects) { return effects.stream().<Class<?>>map(Object::getClass).toList(); }

    @Test
    void aConnectedWriteGoesToBothAndIsAckedOnlyWhenBothAreDone() {
        DiskReplica r = connectedPrimary();
        List<ReplicaEffect> out = r.submitWrite(1, 8192, data(4096), false);
        assertThat(kinds(out)).containsExactly(PersistActivityLog.class, SendToPeer.class, WriteLocal.class);
        Write sent = (Write) ((SendToPeer) out.get(1)).message();
        assertThat(sent.offset()).isEqualTo(8192);
        assertThat(r.localWriteDone(1, true)).isEmpty();
        assertThat(r.peerAck(sent.seq())).containsExactly(new AckClient(1, true));
        assertThat(r.bitmap().isClean()).isTrue();

        // The other order too: peer first, then local.
        Write second = (Write) ((SendToPeer) r.submitWrite(2, 8192, data(512), false).getFirst()).message();
        assertThat(r.peerAck(second.seq())).isEmpty();
        assertThat(r.localWriteDone(2, true)).containsExactly(new AckClient(2, true));
    }

    @Test
    void onlyTheFirstWriteToAColdExtentCostsAnActivityLogTransaction() {
        DiskReplica r = connectedPrimary();
        assertThat(kinds(r.submitWrite(1, 0, data(4096), false))).contains(PersistActivityLog.class);
        assertThat(kinds(r.submitWrite(2, 4096, data(4096), false))).doesNotContain(PersistActivityLog.class);
        assertThat(kinds(r.submitWrite(3, 3L << 20, data(4096), false))).contains(PersistActivityLog.class);
        assertThat(r.activityLogTransactions()).isEqualTo(2);
    }

    @Test
    void withoutThePeerAWriteIsAckedAfterTheLocalWriteAndRecordedUnderANewIdentifier() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 8);        // CONNECTING: no peer yet
        List<ReplicaEffect> out = r.submitWrite(1, 4096 * 10, data(8192), false);
        assertThat(kinds(out)).containsExactly(PersistActivityLog.class, PersistGenerationIds.class, Report.class, WriteLocal.class);
        GenerationIds ids = ((PersistGenerationIds) out.get(1)).ids();
        assertThat(ids.bitmap()).isEqualTo(SHARED.current());
        assertThat(ids.current()).isNotEqualTo(SHARED.current());
        assertThat(r.bitmap().extents()).containsExactly(new DirtyBitmap.Extent(4096 * 10, 8192));
        assertThat(r.localWriteDone(1, true)).containsExactly(new AckClient(1, true));
        // One new identifier per outage, not per write.
        assertThat(kinds(r.submitWrite(2, 0, data(512), false))).doesNotContain(PersistGenerationIds.class);
    }

    @Test
    void losingThePeerFinishesWaitingWritesAloneAndMarksThem() {
        DiskReplica r = connectedPrimary();
        r.submitWrite(1, 0, data(4096), false);
        r.submitWrite(2, 1 << 20, data(4096), false);
        r.localWriteDone(1, true);
        List<ReplicaEffect> out = r.peerLost();
        assertThat(r.state()).isEqualTo(ReplicaState.DEGRADED);
        // New identifier durable before write 1 is acknowledged; write 2 waits for its local write.
        assertThat(kinds(out)).containsSubsequence(PersistGenerationIds.class, AckClient.class);
        assertThat(out).contains(new AckClient(1, true)).doesNotContain(new AckClient(2, true));
        assertThat(r.localWriteDone(2, true)).containsExactly(new AckClient(2, true));
        assertThat(r.bitmap().dirtyRegions()).isEqualTo(2);
    }

    /** DRBD's transfer log: the peer's ack means written, not synced; what no flush of the peer covered is marked when the link goes. */
    @Test
    void writesThePeerAckedButNeverSyncedAreMarkedUnderANewIdentifierWhenTheLinkGoes() {
        DiskReplica r = connectedPrimary();
        long[] seqs = new long[5];
        long[] offsets = {0, 4096, 1 << 20, 2 << 20, 3 << 20};
        boolean[] durable = {false, false, false, true, false};
        for (int i = 0; i < 5; i++) {
            seqs[i] = ((Write) ((SendToPeer) r.submitWrite(i + 1, offsets[i], data(4096), durable[i]).stream()
                    .filter(e -> e instanceof SendToPeer).findFirst().orElseThrow()).message()).seq();
            r.localWriteDone(i + 1, true);
            assertThat(r.peerAck(seqs[i])).containsExactly(new AckClient(i + 1, true));
            // The peer answers a flush asked for after the first three: they are durable there now.
            if (i == 2) {
                long bound = r.nextWriteSeq();
                assertThat(r.unflushedAtPeer()).as("0 and 4096 in a row are one range").isEqualTo(2);
                r.peerFlushed(bound);
                assertThat(r.unflushedAtPeer()).isZero();
            }
        }
        assertThat(r.unflushedAtPeer()).as("the synced (FUA) write is not held").isEqualTo(1);
        List<ReplicaEffect> out = r.peerLost();
        assertThat(r.bitmap().extents()).containsExactly(new DirtyBitmap.Extent(3 << 20, 4096));
        assertThat(kinds(out)).contains(PersistGenerationIds.class, PersistBitmap.class);
        assertThat(r.ids().bitmap()).as("the next handshake resyncs from the bitmap").isEqualTo(SHARED.current());
        assertThat(r.unflushedAtPeer()).isZero();

        // The peer is back: a quick resync of that range, not "same identifiers, nothing to do".
        r.linkUp();
        r.handshake(SHARED, SIZE, true);
        assertThat(r.state()).isEqualTo(ReplicaState.SYNC_SOURCE);
    }

    @Test
    void aFlushCoversOnlyTheWritesNumberedBeforeItWasAskedFor() {
        DiskReplica r = connectedPrimary();
        long bound = r.nextWriteSeq();
        Write after = (Write) ((SendToPeer) r.submitWrite(1, 8192, data(4096), false).stream()
                .filter(e -> e instanceof SendToPeer).findFirst().orElseThrow()).message();
        r.localWriteDone(1, true);
        r.peerAck(after.seq());
        r.peerFlushed(bound);
        assertThat(r.unflushedAtPeer()).isEqualTo(1);
        r.peerLost();
        assertThat(r.bitmap().isDirty(r.bitmap().regionOf(8192))).isTrue();
    }

    @Test
    void aStandbyHasNothingToMarkAndADemotedPrimaryForgetsWhatItsPeerHeld() {
        DiskReplica r = connectedPrimary();
        Write w = (Write) ((SendToPeer) r.submitWrite(1, 0, data(4096), false).get(1)).message();
        r.localWriteDone(1, true);
        r.peerAck(w.seq());
        r.demote();
        r.peerLost();
        assertThat(r.bitmap().isClean()).isTrue();
        assertThat(r.state()).isEqualTo(ReplicaState.OUTDATED);
    }

    @Test
    void aPeerNackMarksTheRegionDegradesTheDiskAndTheClientStillGetsItsWrite() {
        DiskReplica r = connectedPrimary();
        Write w = (Write) ((SendToPeer) r.submitWrite(1, 0, data(4096), false).get(1)).message();
        r.localWriteDone(1, true);
        List<ReplicaEffect> out = r.peerNack(w.seq(), "EIO");
        assertThat(out).contains(new AckClient(1, true));
        assertThat(r.bitmap().isDirty(0)).isTrue();
        assertThat(r.ids().bitmap()).isEqualTo(SHARED.current());
        // The disk goes on alone until the peer's disk is back.
        assertThat(r.state()).isEqualTo(ReplicaState.DEGRADED);
        assertThat(kinds(r.submitWrite(2, 0, data(512), false))).doesNotContain(SendToPeer.class);
    }

    @Test
    void aLocalFailureIsReportedToTheClientAsAFailure() {
        DiskReplica r = connectedPrimary();
        Write w = (Write) ((SendToPeer) r.submitWrite(1, 0, data(4096), false).get(1)).message();
        r.peerAck(w.seq());
        assertThat(r.localWriteDone(1, false)).contains(new AckClient(1, false));
        assertThat(r.bitmap().isDirty(0)).isTrue();
    }

    @Test
    void writesWaitForTheHandshakeSoTheComparisonIsNotStale() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 8);
        r.linkUp();
        assertThat(r.submitWrite(1, 0, data(4096), false)).isEmpty();
        assertThat(r.writesInFlight()).isEqualTo(1);
        List<ReplicaEffect> out = r.handshake(SHARED, SIZE, true);
        assertThat(r.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(kinds(out)).contains(SendToPeer.class, WriteLocal.class);
        assertThat(r.ids()).isEqualTo(SHARED);
    }

    @Test
    void anExtentIdleForATidyRoundLeavesTheLogInATransactionNamingIt() {
        DiskReplica r = connectedPrimary();
        Write first = (Write) ((SendToPeer) r.submitWrite(1, 0, data(4096), false).get(1)).message();
        r.localWriteDone(1, true);
        r.peerAck(first.seq());
        Write busy = (Write) ((SendToPeer) r.submitWrite(2, 3L << 20, data(4096), false).get(1)).message();   // stays in flight
        assertThat(r.tidyActivityLog()).as("both were written since the last round").isEmpty();
        List<ReplicaEffect> out = r.tidyActivityLog();
        assertThat(out).hasSize(1);
        PersistActivityLog t = (PersistActivityLog) out.getFirst();
        assertThat(t.evicted()).as("the idle extent leaves; the one with a write in flight stays").containsExactly(0L);
        assertThat(ActivityLog.readTransaction(t.transaction()).orElseThrow().extents()).containsExactly(3L);
        assertThat(r.activityLogTransactions()).isEqualTo(3);
        assertThat(r.tidyActivityLog()).isEmpty();
        r.localWriteDone(2, true);
        r.peerAck(busy.seq());
        // No write began in it since two rounds ago: it leaves at the next round, and the log is empty.
        PersistActivityLog last = (PersistActivityLog) r.tidyActivityLog().getFirst();
        assertThat(last.evicted()).containsExactly(3L);
        assertThat(ActivityLog.readTransaction(last.transaction()).orElseThrow().extents()).isEmpty();
    }

    @Test
    void aFullActivityLogHoldsTheWriteUntilASlotIsFree() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 2);
        r.submitWrite(1, 0, data(512), false);
        r.submitWrite(2, 1 << 20, data(512), false);
        assertThat(r.submitWrite(3, 2 << 20, data(512), false)).isEmpty();   // both slots pinned
        List<ReplicaEffect> out = r.localWriteDone(1, true);
        assertThat(out.getFirst()).isEqualTo(new AckClient(1, true));
        PersistActivityLog al = (PersistActivityLog) out.get(1);
        assertThat(al.evicted()).containsExactly(0L);
        assertThat(out.getLast()).isInstanceOf(WriteLocal.class);
        assertThat(r.localWriteDone(3, true)).containsExactly(new AckClient(3, true));
    }

    @Test
    void aPrimaryThatWroteAloneBecomesSyncSourceAndSendsItsBitmap() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 8);
        r.submitWrite(1, 0, data(4096), false);
        r.localWriteDone(1, true);
        r.linkUp();
        List<ReplicaEffect> out = r.handshake(SHARED, SIZE, true);
        assertThat(r.state()).isEqualTo(ReplicaState.SYNC_SOURCE);
        BitmapChunk chunk = (BitmapChunk) out.stream().filter(e -> e instanceof SendToPeer).map(e -> ((SendToPeer) e).message()).findFirst().orElseThrow();
        assertThat(chunk.last()).isTrue();
        assertThat(chunk.words().get(0) & 1).isEqualTo(1);   // little-endian words: region 0 is bit 0 of byte 0
        // New writes are replicated during the resync.
        assertThat(kinds(r.submitWrite(2, 8192, data(512), false))).contains(SendToPeer.class);
    }

    @Test
    void aStandbyBehindBecomesTargetAdoptsTheSourceAtTheEndAndTheSourceStopsTracking() {
        GenerationIds primaryIds = SHARED.newCurrent(() -> 2222);
        DiskReplica standby = replica(Role.STANDBY, SHARED, 8);
        standby.linkUp();
        standby.handshake(primaryIds, SIZE, false);
        assertThat(standby.state()).isEqualTo(ReplicaState.SYNC_TARGET);
        ByteBuffer words = new DirtyBitmap(SIZE, 4096).toBytes();
        words.put(0, (byte) 0b110);
        standby.peerBitmap(new BitmapChunk("pc-17", 0, words, true));
        assertThat(standby.bitmap().dirtyRegions()).isEqualTo(2);
        assertThatThrownBy(() -> standby.resyncComplete(primaryIds)).hasMessageContaining("2 dirty regions");
        assertThatThrownBy(standby::promote).hasMessageContaining("must not serve");
        standby.resynced(4096, 8192);
        List<ReplicaEffect> done = standby.resyncComplete(primaryIds.resyncedAsSource());
        assertThat(standby.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(standby.ids().current()).isEqualTo(2222);
        assertThat(done).contains(new SendToPeer(new ResyncDone("pc-17", standby.ids())));
    }

    @Test
    void splitBrainStopsSyncingAndOnlyTheOperatorsDiscardResyncs() {
        GenerationIds mine = SHARED.newCurrent(() -> 2222), theirs = SHARED.newCurrent(() -> 3333);
        DiskReplica primary = replica(Role.PRIMARY, mine, 8);
        primary.linkUp();
        primary.handshake(theirs, SIZE, true);
        assertThat(primary.state()).isEqualTo(ReplicaState.SPLIT_BRAIN);
        // The primary keeps serving, alone, and records what it writes.
        List<ReplicaEffect> out = primary.submitWrite(1, 0, data(512), false);
        assertThat(kinds(out)).doesNotContain(SendToPeer.class);
        assertThat(primary.bitmap().isDirty(0)).isTrue();

        DiskReplica other = replica(Role.STANDBY, theirs, 8);
        other.linkUp();
        other.handshake(mine, SIZE, false);
        assertThat(other.state()).isEqualTo(ReplicaState.SPLIT_BRAIN);
        other.discardLocalData(mine);
        assertThat(other.state()).isEqualTo(ReplicaState.SYNC_TARGET);
        assertThat(other.ids().current()).isEqualTo(SHARED.current());   // claims the shared point, not its own writes
    }

    @Test
    void aPrimaryIsNeverMadeATargetByTheHandshake() {
        DiskReplica r = replica(Role.PRIMARY, SHARED, 8);
        r.linkUp();
        r.handshake(SHARED.newCurrent(() -> 2222), SIZE, true);
        assertThat(r.state()).isEqualTo(ReplicaState.SPLIT_BRAIN);
    }

    @Test
    void disksOfDifferentSizesAreNotReplicated() {
        DiskReplica r = replica(Role.STANDBY, SHARED, 8);
        r.linkUp();
        assertThat(r.handshake(SHARED, SIZE + 512, false).getFirst()).isInstanceOf(Report.class);
        assertThat(r.state()).isEqualTo(ReplicaState.UNRELATED);
    }

    @Test
    void theStandbyAppliesThePrimarysWritesAndRefusesClients() {
        DiskReplica standby = replica(Role.STANDBY, SHARED, 8);
        ByteBuffer d = data(512);
        assertThat(standby.onPeerWrite(new Write("pc-17", 9, 4096, d, true))).containsExactly(new WriteLocal(9, 4096, d, true));
        assertThat(standby.peerWriteDone(9, true)).containsExactly(new SendToPeer(new WriteAck("pc-17", 9)));
        assertThat(standby.submitWrite(1, 0, data(512), false).getFirst()).isEqualTo(new AckClient(1, false));
        DiskReplica primary = connectedPrimary();
        assertThat(primary.onPeerWrite(new Write("pc-17", 9, 0, d, false)).getFirst())
                .isEqualTo(new SendToPeer(new WriteNack("pc-17", 9, "both nodes are primary")));
    }

    /** Its copy lacks a write the primary acknowledges alone: never again "up to date" (the failover reads that) until a resync. */
    @Test
    void aStandbyWhoseWriteFailedNacksItAndIsOutdated() {
        DiskReplica standby = replica(Role.STANDBY, SHARED, 8);
        standby.linkUp();
        standby.handshake(SHARED, SIZE, false);
        assertThat(standby.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        standby.onPeerWrite(new Write("pc-17", 3, 0, data(512), false));
        List<ReplicaEffect> out = standby.peerWriteDone(3, false);
        assertThat(out.getFirst()).isEqualTo(new SendToPeer(new WriteNack("pc-17", 3, "local write failed on the standby")));
        assertThat(standby.state()).isEqualTo(ReplicaState.OUTDATED);
        // Writes already on their way still land and are answered.
        standby.onPeerWrite(new Write("pc-17", 4, 4096, data(512), false));
        assertThat(standby.peerWriteDone(4, true)).containsExactly(new SendToPeer(new WriteAck("pc-17", 4)));
        assertThat(standby.state()).isEqualTo(ReplicaState.OUTDATED);
    }

    @Test
    void aStandbyThatLosesThePrimaryIsOutdatedAndSwitchoverNeedsAnEmptyPipe() {
        DiskReplica standby = replica(Role.STANDBY, SHARED, 8);
        standby.peerLost();
        assertThat(standby.state()).isEqualTo(ReplicaState.OUTDATED);
        standby.promote();
        assertThat(standby.role()).isEqualTo(Role.PRIMARY);
        standby.submitWrite(1, 0, data(512), false);
        assertThatThrownBy(standby::demote).hasMessageContaining("in flight");
        standby.localWriteDone(1, true);
        standby.demote();
        assertThat(standby.role()).isEqualTo(Role.STANDBY);
    }

    // ---------------------------------------------------------------- runtime role changes (failover)

    static DiskReplica failoverReplica(Role role) {
        AtomicLong next = new AtomicLong(7000);
        return new DiskReplica("pc-17", SIZE, role, SHARED, new DirtyBitmap(SIZE, 4096), new ActivityLog(1 << 20, 8), next::incrementAndGet, true);
    }

    @Test
    void aTakeoverPromotesAStandbyThatLostItsPrimaryToADegradedPrimaryThatWritesAloneUnderANewIdentifier() {
        DiskReplica r = failoverReplica(Role.STANDBY);
        r.linkUp();
        r.handshake(SHARED, SIZE, false);
        r.peerLost();
        assertThat(r.state()).isEqualTo(ReplicaState.OUTDATED);
        assertThat(r.submitWrite(1, 0, data(512), false)).contains(new AckClient(1, false));   // a standby refuses clients
        r.promote();
        assertThat(r.role()).isEqualTo(Role.PRIMARY);
        assertThat(r.state()).isEqualTo(ReplicaState.DEGRADED);
        r.writeAlone();   // the failover took over from a dead primary: WriteAlone at once
        List<ReplicaEffect> out = r.submitWrite(2, 8192, data(4096), false);
        assertThat(kinds(out)).contains(PersistGenerationIds.class, WriteLocal.class).doesNotContain(SendToPeer.class);
        assertThat(r.ids().bitmap()).isEqualTo(SHARED.current());
        assertThat(r.localWriteDone(2, true)).containsExactly(new AckClient(2, true));
        assertThat(r.bitmap().isDirty(2)).isTrue();   // region 2: bytes 8192..12287
        // When the old primary comes back as standby, the new one is the source of what changed.
        r.linkUp();
        r.handshake(SHARED, SIZE, false);
        assertThat(r.state()).isEqualTo(ReplicaState.SYNC_SOURCE);
    }

    @Test
    void aSwitchoverPromotesAConnectedStandbyThatThenReplicatesToTheDemotedPeer() {
        DiskReplica old = failoverReplica(Role.PRIMARY), next = failoverReplica(Role.STANDBY);
        for (DiskReplica r : List.of(old, next)) {
            r.linkUp();
            r.handshake(SHARED, SIZE, r == old);
            assertThat(r.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        }
        old.demote();
        next.promote();
        assertThat(old.role()).isEqualTo(Role.STANDBY);
        assertThat(old.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(next.state()).isEqualTo(ReplicaState.UP_TO_DATE);
        List<ReplicaEffect> out = next.submitWrite(1, 4096, data(4096), false);
        Write w = (Write) out.stream().filter(e -> e instanceof SendToPeer).map(e -> ((SendToPeer) e).message()).findFirst().orElseThrow();
        // The demoted node applies it (it no longer refuses peer writes as a primary would) and acks.
        assertThat(kinds(old.onPeerWrite(w))).containsExactly(WriteLocal.class);
        assertThat(old.peerWriteDone(w.seq(), true)).containsExactly(new SendToPeer(new WriteAck("pc-17", w.seq())));
        next.localWriteDone(1, true);
        assertThat(next.peerAck(w.seq())).containsExactly(new AckClient(1, true));
        assertThat(old.submitWrite(2, 0, data(512), false)).contains(new AckClient(2, false));
    }

    @Test
    void aDemotedPrimaryThatWroteAloneIsAnOutdatedStandbyAndPromotingTwiceChangesNothing() {
        DiskReplica r = failoverReplica(Role.PRIMARY);
        r.peerLost();
        r.writeAlone();
        r.submitWrite(1, 0, data(4096), false);
        r.localWriteDone(1, true);
        assertThat(r.promote()).isEmpty();
        assertThat(r.state()).isEqualTo(ReplicaState.DEGRADED);
        r.demote();
        assertThat(r.role()).isEqualTo(Role.STANDBY);
        assertThat(r.state()).isEqualTo(ReplicaState.OUTDATED);
        assertThat(r.demote()).isEmpty();
    }

    /** Failover on, connected and in sync, write 1 done locally and sent, the peer's ack not yet back. */
    static DiskReplica failoverPrimaryWithOneWriteThePeerHasNotAcked() {
        DiskReplica r = failoverReplica(Role.PRIMARY);
        r.linkUp();
        r.handshake(SHARED, SIZE, true);
        r.submitWrite(1, 0, data(4096), false);
        r.localWriteDone(1, true);
        return r;
    }

    @Test
    void withFailoverAWriteThePeerDidNotAckWaitsForWriteAloneAfterTheLinkIsLost() {
        DiskReplica r = failoverPrimaryWithOneWriteThePeerHasNotAcked();
        List<ReplicaEffect> lost = r.peerLost();
        assertThat(r.state()).isEqualTo(ReplicaState.DEGRADED);
        // Marked and under a new identifier already, but not acknowledged: the standby may not know yet that we live.
        assertThat(kinds(lost)).contains(PersistGenerationIds.class).doesNotContain(AckClient.class);
        assertThat(r.bitmap().isDirty(0)).isTrue();
        // A new write lands locally and in the bitmap, and waits too.
        assertThat(kinds(r.submitWrite(2, 1 << 20, data(4096), false))).contains(WriteLocal.class).doesNotContain(SendToPeer.class);
        assertThat(r.localWriteDone(2, true)).isEmpty();
        assertThat(r.writesInFlight()).isEqualTo(2);
        assertThat(r.writeAlone()).contains(new AckClient(1, true), new AckClient(2, true));
        // From then on alone writes are acknowledged after their local write.
        r.submitWrite(3, 2 << 20, data(4096), false);
        assertThat(r.localWriteDone(3, true)).containsExactly(new AckClient(3, true));
    }

    @Test
    void withFailoverWritesWaitingForWriteAloneAreAcknowledgedWhenThePeerIsBackAndComparesIdentifiers() {
        DiskReplica r = failoverPrimaryWithOneWriteThePeerHasNotAcked();
        r.peerLost();
        r.linkUp();
        List<ReplicaEffect> out = r.handshake(SHARED, SIZE, true);
        // The write is in the bitmap the peer is now resynced from (its copy is a sync target, unusable until done).
        assertThat(out).contains(new AckClient(1, true));
        assertThat(r.state()).isEqualTo(ReplicaState.SYNC_SOURCE);
    }

    @Test
    void withFailoverADiskThePeerDoesNotHoldOrAPeerNackNeverWaitsForWriteAlone() {
        DiskReplica lacking = failoverReplica(Role.PRIMARY);
        lacking.linkUp();
        lacking.peerLacksDisk();
        lacking.submitWrite(1, 0, data(4096), false);
        assertThat(lacking.localWriteDone(1, true)).containsExactly(new AckClient(1, true));

        DiskReplica nacked = failoverReplica(Role.PRIMARY);
        nacked.linkUp();
        nacked.handshake(SHARED, SIZE, true);
        Write w = (Write) ((SendToPeer) nacked.submitWrite(1, 0, data(4096), false).get(1)).message();
        nacked.localWriteDone(1, true);
        assertThat(nacked.peerNack(w.seq(), "EIO")).contains(new AckClient(1, true));
    }
}
