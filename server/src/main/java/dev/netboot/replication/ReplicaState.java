package dev.netboot.replication;

/** Where one disk's replication stands, as {@code netboot replication status} shows it. */
public enum ReplicaState {
    /** Started, no link to the peer yet. A primary writes alone (as in {@link #DEGRADED}). */
    CONNECTING,
    /** Link up, identifiers exchanged but not compared yet: writes wait (milliseconds) so the comparison is not stale. */
    WAITING_HANDSHAKE,
    /** Both copies hold the same data; every write goes to both (protocol C). */
    UP_TO_DATE,
    /** Sending the peer what it lacks; new writes still go to both. */
    SYNC_SOURCE,
    /** Receiving what this copy lacks: inconsistent until done, so it must never serve or take over. */
    SYNC_TARGET,
    /** Primary without its peer: writes are acknowledged after the local write and recorded in the bitmap. */
    DEGRADED,
    /** Standby without its primary: its copy may be behind. */
    OUTDATED,
    /** Both wrote while apart: no sync until the operator discards one side; the primary keeps serving alone. */
    SPLIT_BRAIN,
    /** The copies share no history (or differ in size): refused, nothing is touched. */
    UNRELATED
}
