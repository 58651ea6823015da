package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.util.List;

/**
 * One subnet this server hands out addresses in: the range {@code first..last} of the subnet
 * {@code network/prefixLength}, and the options its clients get.
 */
public record Pool(Ipv4 network, int prefixLength, Ipv4 first, Ipv4 last, Ipv4 router, List<Ipv4> dnsServers,
                   String domain, long leaseSeconds) {

    public Pool {
        dnsServers = List.copyOf(dnsServers);
        domain = domain == null ? "" : domain;
        router = router == null ? Ipv4.ANY : router;
        if (!network.and(Ipv4.mask(prefixLength)).equals(network)) throw new IllegalArgumentException(network + "/" + prefixLength + " has host bits set");
        // Fields are not assigned yet inside a compact constructor: test with the parameters.
        Ipv4 mask = Ipv4.mask(prefixLength);
        if (!first.and(mask).equals(network) || !last.and(mask).equals(network) || first.compareTo(last) > 0) {
            throw new IllegalArgumentException("range " + first + "-" + last + " is not inside " + network + "/" + prefixLength);
        }
        if (leaseSeconds < 60) throw new IllegalArgumentException("lease time " + leaseSeconds + "s is below a minute");
    }

    public Ipv4 mask() { return Ipv4.mask(prefixLength); }

    public boolean inSubnet(Ipv4 a) { return a.and(Ipv4.mask(prefixLength)).equals(network); }

    public boolean inRange(Ipv4 a) { return a.compareTo(first) >= 0 && a.compareTo(last) <= 0; }

    public long size() { return last.unsigned() - first.unsigned() + 1; }

    @Override
    public String toString() { return network + "/" + prefixLength + " (" + first + "-" + last + ")"; }
}
