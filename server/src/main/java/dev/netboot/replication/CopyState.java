package dev.netboot.replication;

/** What this node's copy of the disks (all of them together) is worth for a takeover. */
public enum CopyState {
    /** Connected and identical to the primary's (every disk {@link ReplicaState#UP_TO_DATE} or sync source). */
    UP_TO_DATE,
    /** Whole and readable, but whether it is the newest is not known (just started, or the peer went on alone). */
    CONSISTENT,
    /** Blank, a sync target, split brain or unrelated on some disk: must never serve. */
    UNUSABLE
}
