package dev.netboot.replication;

/**
 * What {@link Failover} asks its adapter to do. The effects of one input run in list order; a
 * {@link PersistTerm} is durable before the {@link Serve} after it, so a node that crashes right after
 * taking over comes back knowing the term it served under.
 */
public sealed interface FailoverEffect {

    /** Ask the primary's AoE target on the client network (a config query to the service MAC) whether it answers. */
    record Probe(long seq) implements FailoverEffect {}

    record PersistTerm(long term) implements FailoverEffect {}

    /**
     * Take the service address (service MAC, service IP), serve the disks on it and announce it on the
     * client network (unsolicited AoE config responses, gratuitous ARP / unsolicited ND) so switches
     * learn the new port at once. {@code forced}: the operator's {@link Failover#forcePrimary}, where the
     * peer may still serve (only cut off): this node then keeps dialling it, since a serving peer does not
     * dial, and two primaries that each waited for the other would never meet to find the split brain or
     * hear the higher term.
     */
    record Serve(long term, String reason, boolean forced) implements FailoverEffect {}

    /** Release the service address: from the next frame on, this node answers nothing on the client network. */
    record StopServing(String reason) implements FailoverEffect {}

    /**
     * Switchover: the service address is already released; call {@link Failover#drained} once every
     * disk has no client write in flight (each one acknowledged by both copies).
     */
    record AwaitDrain() implements FailoverEffect {}

    /** Tell the peer over the replication link (a {@link ReplicationMessage.RoleAnnouncement}). */
    record Announce(Role role, long term) implements FailoverEffect {}

    /** This copy may be behind the primary: it must not take over until a resync made it up to date. */
    record MarkOutdated(String reason) implements FailoverEffect {}

    /**
     * The primary may now acknowledge client writes that only its own copy holds (degraded). Until then,
     * after the link went, a write the peer did not acknowledge waits: the standby must first have had
     * time to probe this node and mark itself outdated, else a primary that wrote alone and died at once
     * would leave a standby that takes over without those writes. Withdrawn by the next link-up.
     */
    record WriteAlone(String reason) implements FailoverEffect {}

    /** The operator's {@link Failover#forcePrimary} is refused after all (the peer answered a probe, or connected). */
    record ForcedPromotionRefused(String reason) implements FailoverEffect {}

    /** Something a person must know happened (log line, status). */
    record Report(String message) implements FailoverEffect {}
}
