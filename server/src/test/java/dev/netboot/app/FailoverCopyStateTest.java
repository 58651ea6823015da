package dev.netboot.app;

import dev.netboot.replication.CopyState;
import dev.netboot.replication.ReplicaState;
import dev.netboot.replication.ReplicationNode.DiskStatus;
import dev.netboot.replication.Role;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the failover hears about this node's copy, from a snapshot of the disks (FailoverService.copyState). */
class FailoverCopyStateTest {

    static DiskStatus disk(ReplicaState state, boolean connected, Role role) {
        return new DiskStatus("7.1", role, state, connected, 0, 100, 0, 0, 0, "1/0", "never");
    }

    @Test
    void aSnapshotTakenAfterTheLinkDroppedIsNeverUpToDate() {
        // CI: the failover thread polled the link (up), then read the disks a moment after the drop; every disk was
        // skipped as "not connected" and the empty verdict said "up to date": a blank standby took over.
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.OUTDATED, false, Role.STANDBY)))).isEqualTo(CopyState.CONSISTENT);
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.SYNC_TARGET, false, Role.STANDBY)))).isNotEqualTo(CopyState.UP_TO_DATE);
    }

    @Test
    void connectedDisksDecideAndTheWorstWins() {
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.UP_TO_DATE, true, Role.STANDBY)))).isEqualTo(CopyState.UP_TO_DATE);
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.UP_TO_DATE, true, Role.STANDBY), disk(ReplicaState.SYNC_TARGET, true, Role.STANDBY))))
                .isEqualTo(CopyState.UNUSABLE);
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.WAITING_HANDSHAKE, true, Role.STANDBY)))).isEqualTo(CopyState.CONSISTENT);
        // A standby whose write failed is outdated while still connected: not a copy to take over with.
        assertThat(FailoverService.linkedCopyState(List.of(disk(ReplicaState.OUTDATED, true, Role.STANDBY)))).contains(CopyState.CONSISTENT);
        // A disk the peer does not hold is degraded on the primary while connected: it does not stand in the way.
        assertThat(FailoverService.copyState(List.of(disk(ReplicaState.DEGRADED, true, Role.PRIMARY), disk(ReplicaState.UP_TO_DATE, true, Role.PRIMARY))))
                .isEqualTo(CopyState.UP_TO_DATE);
    }

    @Test
    void aPeriodicSnapshotWithTheLinkAlreadyDownTellsTheFailoverNothing() {
        // AoeFailoverIT: the tick read the disks between the link's drop and its down edge; "not up to date" went in,
        // and at the edge the standby judged its copy stale: a standby whose primary had died would not take over.
        assertThat(FailoverService.linkedCopyState(List.of(disk(ReplicaState.OUTDATED, false, Role.STANDBY)))).isEmpty();
        assertThat(FailoverService.linkedCopyState(List.of(disk(ReplicaState.UP_TO_DATE, true, Role.STANDBY)))).contains(CopyState.UP_TO_DATE);
        assertThat(FailoverService.linkedCopyState(List.of(disk(ReplicaState.SYNC_TARGET, true, Role.STANDBY)))).contains(CopyState.UNUSABLE);
    }
}
