package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;


/**
 * A reply and how RFC 2131 §4.1 says to deliver it.
 *
 * @param destination the IP destination; for {@link Delivery#UNICAST_TO_HARDWARE} it is yiaddr, an
 *                    address the client does not answer ARP for yet
 */
public record Outbound(DhcpMessage message, Ipv4 destination, int port, Delivery delivery) {

    public enum Delivery {
        /** To 255.255.255.255 on the interface. */
        BROADCAST,
        /** An ordinary unicast: the destination answers ARP (a relay agent, or a client with an address). */
        UNICAST,
        /** To yiaddr at chaddr: the client has no address yet, so the sender must not rely on ARP. */
        UNICAST_TO_HARDWARE
    }
}
