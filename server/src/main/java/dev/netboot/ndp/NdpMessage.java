package dev.netboot.ndp;

import dev.netboot.net.MacAddress;

import java.util.Optional;

/**
 * The two Neighbor Discovery messages the appliance deals in, each with the Ethernet and IPv6
 * addressing it travels with. Hop limit is always 255 (RFC 4861: proof that it did not cross a router).
 */
public sealed interface NdpMessage {

    MacAddress ethernetSource();
    MacAddress ethernetDestination();
    Ipv6Address source();
    Ipv6Address destination();

    /**
     * ICMPv6 type 133: a host asks the routers on its link to announce themselves.
     *
     * @param sourceLinkLayer the Source Link-Layer Address option, if the host sent one (never with an
     *                        unspecified source)
     */
    record RouterSolicitation(MacAddress ethernetSource, MacAddress ethernetDestination, Ipv6Address source, Ipv6Address destination,
                              Optional<MacAddress> sourceLinkLayer) implements NdpMessage {}

    /**
     * ICMPv6 type 134. The appliance only ever sends one that says "I am no default router"
     * (lifetime 0), with no prefixes and M = O = 0: a host learns nothing from it, and iPXE stops
     * waiting for a router.
     *
     * @param routerLifetimeSeconds 0 = not a default router
     * @param sourceLinkLayer       the Source Link-Layer Address option, if present
     */
    record RouterAdvertisement(MacAddress ethernetSource, MacAddress ethernetDestination, Ipv6Address source, Ipv6Address destination,
                               int currentHopLimit, boolean managed, boolean other, int routerLifetimeSeconds,
                               long reachableTimeMillis, long retransTimerMillis, Optional<MacAddress> sourceLinkLayer) implements NdpMessage {
        public RouterAdvertisement {
            if (currentHopLimit < 0 || currentHopLimit > 255) throw new IllegalArgumentException("hop limit " + currentHopLimit);
            if (routerLifetimeSeconds < 0 || routerLifetimeSeconds > 0xFFFF) throw new IllegalArgumentException("lifetime " + routerLifetimeSeconds);
            if (reachableTimeMillis < 0 || reachableTimeMillis > 0xFFFF_FFFFL) throw new IllegalArgumentException("reachable " + reachableTimeMillis);
            if (retransTimerMillis < 0 || retransTimerMillis > 0xFFFF_FFFFL) throw new IllegalArgumentException("retrans " + retransTimerMillis);
        }
    }
}
