package dev.netboot.dhcp;


import dev.netboot.net.Ipv4;
import java.time.Instant;

/**
 * What a request (or the passing of time) changed outside the engine, for the adapter to carry out
 * after the reply: the engine itself writes nothing and calls no one.
 */
public sealed interface DhcpEffect {

    /**
     * A lease became bound, freed (released, expired, replaced) or declined: persist it, newest state
     * per address, so a client renewing after a restart keeps its address. Offers are never saved.
     */
    record SaveLease(Lease lease) implements DhcpEffect {}

    /** A network-boot client asked (DISCOVER, or the boot-server REQUEST on 4011). */
    record ClientSeen(Machine machine, Instant at) implements DhcpEffect {}

    /**
     * We gave a client boot information, with an address in full mode ({@link Ipv4#ANY} when the
     * answer carried none).
     */
    record Booted(Machine machine, BootPlan plan, Ipv4 address, Instant at) implements DhcpEffect {}
}
