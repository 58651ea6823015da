package dev.netboot.dhcp;

import dev.netboot.net.MacAddress;
import dev.netboot.net.Ipv4;


/** A fixed address (and optionally hostname) for one MAC, inside one of the pools' subnets. */
public record Reservation(String mac, Ipv4 address, String hostname) {
    public Reservation {
        mac = MacAddress.normalize(mac);
        hostname = hostname == null ? "" : hostname;
    }
}
