package dev.netboot.testlib;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 prefix such as 198.18.7.0/24; hands out host addresses by number for server and pool configs. */
public final class Subnet {

    private final int network;
    private final int prefixLength;

    Subnet(int address, int prefixLength) {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        this.prefixLength = prefixLength;
        this.network = address & mask(prefixLength);
    }

    /** Parses {@code a.b.c.d/len} as printed by {@code ip -o -4 addr}. */
    static Subnet parse(String cidr) {
        String[] parts = cidr.split("/", 2);
        String[] octets = parts[0].split("\\.");
        if (parts.length != 2 || octets.length != 4) {
            throw new IllegalArgumentException("not an IPv4 prefix: " + cidr);
        }
        int address = 0;
        for (String octet : octets) {
            address = (address << 8) | Integer.parseInt(octet);
        }
        return new Subnet(address, Integer.parseInt(parts[1]));
    }

    public InetAddress network() {
        return toInet(network);
    }

    public int prefixLength() {
        return prefixLength;
    }

    /** Host number {@code n} inside this subnet, e.g. {@code host(1)} is 198.18.7.1 for 198.18.7.0/24. */
    /** "198.18.5." for 198.18.5.0/24: the start of a host address, as DHCP pool settings and dnsmasq ranges write it. */
    public String dottedPrefix() {
        String network = network().getHostAddress();
        return network.substring(0, network.lastIndexOf('.') + 1);
    }

    public InetAddress host(int n) {
        long size = 1L << (32 - prefixLength);
        if (n <= 0 || n >= size - 1) {
            throw new IllegalArgumentException("host " + n + " is not usable in " + this);
        }
        return toInet(network + n);
    }

    /** The {@code index}-th subnet of the given (longer) prefix length inside this one. */
    Subnet slice(int index, int length) {
        if (length < prefixLength || index < 0 || index >= 1L << (length - prefixLength)) {
            throw new IllegalArgumentException("no /" + length + " number " + index + " in " + this);
        }
        return new Subnet(network + (index << (32 - length)), length);
    }

    /** Two prefixes overlap exactly when they agree on the bits of the shorter one. */
    boolean overlaps(Subnet other) {
        int shorter = mask(Math.min(prefixLength, other.prefixLength));
        return (network & shorter) == (other.network & shorter);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Subnet s && s.network == network && s.prefixLength == prefixLength;
    }

    @Override
    public int hashCode() {
        return 31 * network + prefixLength;
    }

    @Override
    public String toString() {
        return network().getHostAddress() + "/" + prefixLength;
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    private static InetAddress toInet(int address) {
        byte[] bytes = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always a valid IPv4 address", e);
        }
    }
}
