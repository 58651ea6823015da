package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.ndp.NdpMessage.RouterAdvertisement;
import dev.netboot.ndp.NdpMessage.RouterSolicitation;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Ethernet frames ⇄ {@link NdpMessage}s: Router Solicitations and Advertisements in an IPv6 packet
 * without extension headers (what every host and iPXE send). Decoding checks what RFC 4861 section
 * 6.1 asks a receiver to check; anything else on the wire (other ethertypes, other ICMPv6 types) is
 * simply not ours.
 */
public final class NdpCodec {

    public static final int ETHERTYPE_IPV6 = 0x86DD;
    public static final int ICMPV6 = 58;
    public static final int ROUTER_SOLICITATION = 133;
    public static final int ROUTER_ADVERTISEMENT = 134;
    /** Only packets with this hop limit can come from the link itself (RFC 4861 section 6.1). */
    public static final int HOP_LIMIT = 255;

    static final int ETHERNET_HEADER = 14;
    static final int IPV6_HEADER = 40;
    static final int ICMP_OFFSET = ETHERNET_HEADER + IPV6_HEADER;
    static final int OPTION_SOURCE_LINK_LAYER = 1;
    static final int FLAG_MANAGED = 0x80;
    static final int FLAG_OTHER = 0x40;

    private NdpCodec() {}

    /**
     * Decodes the frame between the buffer's position and limit (neither is changed).
     *
     * @return the message, or empty when the frame is no Router Solicitation or Advertisement at all
     * @throws MalformedNdpException when it is one but breaks the rules (wrong hop limit, checksum, code, lengths, options)
     */
    public static Optional<NdpMessage> decode(ByteBuffer frame) throws MalformedNdpException {
        int base = frame.position();
        int available = frame.limit() - base;
        if (available < ETHERNET_HEADER || (frame.getShort(base + 12) & 0xFFFF) != ETHERTYPE_IPV6) return Optional.empty();
        if (available < ICMP_OFFSET) throw new MalformedNdpException("IPv6 header cut short: " + (available - ETHERNET_HEADER) + " of 40 bytes");
        int ip = base + ETHERNET_HEADER;
        if ((frame.get(ip) & 0xF0) != 0x60) throw new MalformedNdpException("IP version " + ((frame.get(ip) & 0xF0) >>> 4) + " in an IPv6 frame");
        if ((frame.get(ip + 6) & 0xFF) != ICMPV6) return Optional.empty(); // another protocol, or extension headers: never NDP of ours
        int payload = frame.getShort(ip + 4) & 0xFFFF;
        if (payload < 4) {
            // Too short to even say which ICMPv6 message it is.
            throw new MalformedNdpException("ICMPv6 payload of " + payload + " bytes");
        }
        if (payload > available - ICMP_OFFSET) throw new MalformedNdpException("IPv6 payload length " + payload + " but " + (available - ICMP_OFFSET) + " bytes in the frame");
        int icmp = base + ICMP_OFFSET;
        int type = frame.get(icmp) & 0xFF;
        if (type != ROUTER_SOLICITATION && type != ROUTER_ADVERTISEMENT) return Optional.empty();
        String what = type == ROUTER_SOLICITATION ? "router solicitation" : "router advertisement";
        int hopLimit = frame.get(ip + 7) & 0xFF;
        if (hopLimit != HOP_LIMIT) throw new MalformedNdpException(what + " with hop limit " + hopLimit + " (must be 255: it crossed a router)");
        int code = frame.get(icmp + 1) & 0xFF;
        if (code != 0) throw new MalformedNdpException(what + " with code " + code);
        int fixed = type == ROUTER_SOLICITATION ? 8 : 16;
        if (payload < fixed) throw new MalformedNdpException(what + " of " + payload + " bytes (at least " + fixed + ")");
        Ipv6Address source = Ipv6Address.read(frame, ip + 8);
        Ipv6Address destination = Ipv6Address.read(frame, ip + 24);
        int sum = checksum(frame, source, destination, icmp, payload);
        if (sum != 0xFFFF) throw new MalformedNdpException(what + " with a bad ICMPv6 checksum");
        MacAddress ethDst = MacAddress.read(frame, base);
        MacAddress ethSrc = MacAddress.read(frame, base + 6);
        if (ethSrc.isGroup()) throw new MalformedNdpException(what + " from a group Ethernet address " + ethSrc);
        if (source.isMulticast()) throw new MalformedNdpException(what + " from a multicast IPv6 address " + source);
        Optional<MacAddress> sll = sourceLinkLayer(frame, icmp + fixed, icmp + payload, what);
        if (type == ROUTER_SOLICITATION) {
            // RFC 4861 6.1.1: with no address yet a host must not claim a link-layer address.
            if (source.isUnspecified() && sll.isPresent())
                throw new MalformedNdpException("router solicitation from the unspecified address with a source link-layer address option");
            return Optional.of(new RouterSolicitation(ethSrc, ethDst, source, destination, sll));
        }
        // RFC 4861 6.1.2: routers speak from their link-local address.
        if (!source.isLinkLocalUnicast()) throw new MalformedNdpException("router advertisement from " + source + ", not a link-local address");
        int flags = frame.get(icmp + 5) & 0xFF;
        return Optional.of(new RouterAdvertisement(ethSrc, ethDst, source, destination, frame.get(icmp + 4) & 0xFF,
                (flags & FLAG_MANAGED) != 0, (flags & FLAG_OTHER) != 0, frame.getShort(icmp + 6) & 0xFFFF,
                frame.getInt(icmp + 8) & 0xFFFF_FFFFL, frame.getInt(icmp + 12) & 0xFFFF_FFFFL, sll));
    }

    /** Walks the options (each a multiple of 8 bytes, never 0) and returns the first Source Link-Layer Address. */
    private static Optional<MacAddress> sourceLinkLayer(ByteBuffer frame, int from, int end, String what) throws MalformedNdpException {
        Optional<MacAddress> found = Optional.empty();
        for (int at = from; at < end; ) {
            if (end - at < 2) throw new MalformedNdpException(what + ": option header cut short");
            int type = frame.get(at) & 0xFF;
            int length = (frame.get(at + 1) & 0xFF) * 8;
            if (length == 0) throw new MalformedNdpException(what + ": option " + type + " of length 0");
            if (length > end - at) throw new MalformedNdpException(what + ": option " + type + " of " + length + " bytes, " + (end - at) + " left");
            if (type == OPTION_SOURCE_LINK_LAYER && found.isEmpty()) found = Optional.of(MacAddress.read(frame, at + 2));
            at += length;
        }
        return found;
    }

    /** The ones' complement sum over the IPv6 pseudo-header and the ICMPv6 message (0xFFFF when the checksum in it is right). */
    static int checksum(ByteBuffer frame, Ipv6Address source, Ipv6Address destination, int icmp, int length) {
        long sum = 0;
        sum += words(source.high()) + words(source.low()) + words(destination.high()) + words(destination.low());
        sum += length + ICMPV6;
        for (int i = 0; i + 1 < length; i += 2) sum += frame.getShort(icmp + i) & 0xFFFF;
        if ((length & 1) != 0) sum += (frame.get(icmp + length - 1) & 0xFF) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) sum;
    }

    private static long words(long v) {
        return (v >>> 48) + ((v >>> 32) & 0xFFFF) + ((v >>> 16) & 0xFFFF) + (v & 0xFFFF);
    }

    /** The frame's size in bytes. */
    public static int size(NdpMessage m) {
        return ICMP_OFFSET + icmpLength(m);
    }

    private static int icmpLength(NdpMessage m) {
        return switch (m) {
            case RouterSolicitation rs -> 8 + (rs.sourceLinkLayer().isPresent() ? 8 : 0);
            case RouterAdvertisement ra -> 16 + (ra.sourceLinkLayer().isPresent() ? 8 : 0);
        };
    }

    /** A new array holding the frame. */
    public static byte[] encode(NdpMessage m) {
        ByteBuffer out = ByteBuffer.allocate(size(m));
        encode(m, out);
        return out.array();
    }

    /** Writes the frame at the buffer's position and advances it; hop limit 255, checksum filled in. */
    public static void encode(NdpMessage m, ByteBuffer out) {
        int base = out.position();
        int icmpLength = icmpLength(m);
        m.ethernetDestination().write(out);
        m.ethernetSource().write(out);
        out.putShort((short) ETHERTYPE_IPV6);
        out.putInt(0x6000_0000).putShort((short) icmpLength).put((byte) ICMPV6).put((byte) HOP_LIMIT);
        m.source().write(out);
        m.destination().write(out);
        int icmp = out.position();
        Optional<MacAddress> sll;
        switch (m) {
            case RouterSolicitation rs -> {
                out.put((byte) ROUTER_SOLICITATION).put((byte) 0).putShort((short) 0).putInt(0);
                sll = rs.sourceLinkLayer();
            }
            case RouterAdvertisement ra -> {
                int flags = (ra.managed() ? FLAG_MANAGED : 0) | (ra.other() ? FLAG_OTHER : 0);
                out.put((byte) ROUTER_ADVERTISEMENT).put((byte) 0).putShort((short) 0)
                        .put((byte) ra.currentHopLimit()).put((byte) flags).putShort((short) ra.routerLifetimeSeconds())
                        .putInt((int) ra.reachableTimeMillis()).putInt((int) ra.retransTimerMillis());
                sll = ra.sourceLinkLayer();
            }
        }
        if (sll.isPresent()) {
            out.put((byte) OPTION_SOURCE_LINK_LAYER).put((byte) 1);
            sll.get().write(out);
        }
        int sum = checksum(out, m.source(), m.destination(), icmp, icmpLength);
        out.putShort(icmp + 2, (short) ~sum);
        assert out.position() - base == size(m);
    }
}
