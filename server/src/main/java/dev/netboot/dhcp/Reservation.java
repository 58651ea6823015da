package dev.netboot.dhcp;

/** A fixed address (and optionally hostname) for one MAC, inside one of the pools' subnets. */
public record Reservation(String mac, Ipv4 address, String hostname) {
    public Reservation {
        mac = mac.toLowerCase(java.util.Locale.ROOT).replace('-', ':');
        hostname = hostname == null ? "" : hostname;
    }
}
