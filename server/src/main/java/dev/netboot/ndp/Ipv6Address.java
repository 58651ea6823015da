package dev.netboot.ndp;

import dev.netboot.net.MacAddress;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/** A 128-bit IPv6 address as two longs: cheap to compare and hash, no DNS lookups. */
public record Ipv6Address(long high, long low) {

    public static final Ipv6Address UNSPECIFIED = new Ipv6Address(0, 0);
    /** ff02::1, every node on the link. */
    public static final Ipv6Address ALL_NODES = new Ipv6Address(0xff02_0000_0000_0000L, 1);
    /** ff02::2, every router on the link: where hosts send their solicitations. */
    public static final Ipv6Address ALL_ROUTERS = new Ipv6Address(0xff02_0000_0000_0000L, 2);

    /** Reads 16 bytes at an absolute index. */
    public static Ipv6Address read(ByteBuffer in, int index) {
        return new Ipv6Address(in.getLong(index), in.getLong(index + 8));
    }

    public void write(ByteBuffer out) {
        out.putLong(high).putLong(low);
    }

    public static Ipv6Address of(byte[] sixteen) {
        if (sixteen.length != 16) throw new IllegalArgumentException("an IPv6 address has 16 bytes");
        return read(ByteBuffer.wrap(sixteen), 0);
    }

    /** A literal such as {@code fe80::1}; never a host name. */
    public static Ipv6Address parse(String literal) {
        if (literal.indexOf(':') < 0) throw new IllegalArgumentException("not an IPv6 address: '" + literal + "'");
        try {
            // With a ':' in it, InetAddress parses the literal and does no lookup.
            InetAddress a = InetAddress.getByName(literal);
            if (!(a instanceof Inet6Address)) throw new IllegalArgumentException("not an IPv6 address: '" + literal + "'");
            return of(a.getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv6 address: '" + literal + "'");
        }
    }

    /**
     * The link-local address a host derives from its MAC (RFC 4291 appendix A, modified EUI-64):
     * fe80::, then the MAC with ff:fe in its middle and the universal/local bit flipped.
     */
    public static Ipv6Address linkLocal(MacAddress mac) {
        long m = mac.bits();
        long iid = ((m >>> 24) << 40) | (0xFFFEL << 24) | (m & 0xFF_FFFFL);
        iid ^= 0x0200_0000_0000_0000L;
        return new Ipv6Address(0xfe80_0000_0000_0000L, iid);
    }

    public boolean isUnspecified() { return high == 0 && low == 0; }

    public boolean isMulticast() { return (high >>> 56) == 0xff; }

    public boolean isLinkLocalUnicast() { return (high >>> 54) == (0xfe80L >>> 6); }

    /** The Ethernet group address IPv6 multicast maps to (RFC 2464 section 7): 33:33 and the low 32 bits. */
    public MacAddress multicastMac() {
        if (!isMulticast()) throw new IllegalStateException(this + " is not a multicast address");
        return new MacAddress(0x3333_0000_0000L | (low & 0xFFFF_FFFFL));
    }

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(16);
        write(b);
        return b.array();
    }

    @Override
    public String toString() {
        try {
            // The JDK prints the long form; compress the longest run of zero groups as RFC 5952 asks.
            String full = InetAddress.getByAddress(toBytes()).getHostAddress();
            return compress(full);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String compress(String full) {
        String[] groups = full.split(":");
        int bestStart = -1, bestLen = 1;
        for (int i = 0; i < groups.length; ) {
            if (!groups[i].equals("0")) { i++; continue; }
            int j = i;
            while (j < groups.length && groups[j].equals("0")) j++;
            if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
            i = j;
        }
        if (bestStart < 0) return full;
        String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLen, groups.length));
        return head + "::" + tail;
    }
}
