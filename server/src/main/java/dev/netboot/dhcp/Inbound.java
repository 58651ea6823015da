package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;


/**
 * A decoded request and where it came from.
 *
 * @param local        the address of our interface it arrived on: it becomes the server identifier,
 *                     and (for a client on the wire, not relayed) selects the pool
 * @param bootServer   it arrived on port 4011 (the PXE boot-server exchange)
 */
public record Inbound(DhcpMessage message, Ipv4 source, int sourcePort, Ipv4 local, boolean bootServer) {}
