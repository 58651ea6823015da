package dev.netboot.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 address as an unsigned 32-bit value: cheap to compare, to hash and to count through a
 * pool, which the lease table does per packet. {@code toString()} is the dotted quad.
 */
public record Ipv4(int bits) implements Comparable<Ipv4> {

    public static final Ipv4 ANY = new Ipv4(0);
    public static final Ipv4 BROADCAST = new Ipv4(-1);

    public static Ipv4 of(int a, int b, int c, int d) {
        return new Ipv4((a & 0xFF) << 24 | (b & 0xFF) << 16 | (c & 0xFF) << 8 | (d & 0xFF));
    }

    public static Ipv4 parse(String dotted) {
        String[] parts = dotted.trim().split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
        int bits = 0;
        for (String p : parts) {
            int v;
            try {
                v = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            if (v < 0 || v > 255 || p.isEmpty() || p.length() > 3) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            bits = bits << 8 | v;
        }
        return new Ipv4(bits);
    }

    public static Ipv4 of(InetAddress address) {
        if (!(address instanceof Inet4Address)) throw new IllegalArgumentException("not IPv4: " + address);
        byte[] b = address.getAddress();
        return of(b[0], b[1], b[2], b[3]);
    }

    /** The netmask of a prefix length, e.g. 24 → 255.255.255.0. */
    public static Ipv4 mask(int prefixLength) {
        if (prefixLength < 0 || prefixLength > 32) throw new IllegalArgumentException("prefix length " + prefixLength);
        return new Ipv4(prefixLength == 0 ? 0 : -1 << (32 - prefixLength));
    }

    public boolean isAny() { return bits == 0; }

    public boolean isBroadcast() { return bits == -1; }

    public long unsigned() { return Integer.toUnsignedLong(bits); }

    public Ipv4 plus(long n) { return new Ipv4((int) (unsigned() + n)); }

    public Ipv4 and(Ipv4 mask) { return new Ipv4(bits & mask.bits); }

    public byte[] toBytes() {
        return new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
    }

    public InetAddress toInetAddress() {
        try {
            return InetAddress.getByAddress(toBytes());
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always a valid address
        }
    }

    @Override
    public int compareTo(Ipv4 o) { return Integer.compareUnsigned(bits, o.bits); }

    @Override
    public String toString() {
        return (bits >>> 24) + "." + (bits >>> 16 & 0xFF) + "." + (bits >>> 8 & 0xFF) + "." + (bits & 0xFF);
    }
}
