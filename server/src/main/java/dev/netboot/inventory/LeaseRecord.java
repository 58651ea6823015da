package dev.netboot.inventory;

import dev.netboot.net.Ipv4;

import java.time.Instant;

/**
 * One row of {@code leases}: what the inventory keeps of an address DHCP handed out, so a restarted
 * server gives every client its address back. The inventory stores it; the DHCP engine's own
 * {@code dhcp.Lease} is turned into it at the boundary ({@code boot.LeaseWriter}).
 *
 * @param state BOUND, FREE, DECLINED (offers are never stored)
 */
public record LeaseRecord(Ipv4 address, String clientKey, String mac, String hostname, String state, Instant expires) {

    public LeaseRecord {
        hostname = hostname == null ? "" : hostname;
    }
}
