package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.util.Objects;

/**
 * One BOOTP/DHCP message (RFC 2131 §2, figure 1). {@code chaddr} holds exactly {@code hlen} bytes;
 * {@code sname} and {@code file} are the text of those fields when they were not overloaded with
 * options (the decoder moved overloaded contents into {@code options}).
 */
public record DhcpMessage(
        int op, int htype, int hops, int xid, int secs, int flags,
        Ipv4 ciaddr, Ipv4 yiaddr, Ipv4 siaddr, Ipv4 giaddr,
        Bytes chaddr, String sname, String file, DhcpOptions options) {

    public static final int BOOTREQUEST = 1;
    public static final int BOOTREPLY = 2;
    public static final int HTYPE_ETHERNET = 1;
    public static final int FLAG_BROADCAST = 0x8000;
    /** chaddr is a 16-byte field. */
    public static final int MAX_HLEN = 16;

    public DhcpMessage {
        Objects.requireNonNull(ciaddr);
        Objects.requireNonNull(yiaddr);
        Objects.requireNonNull(siaddr);
        Objects.requireNonNull(giaddr);
        Objects.requireNonNull(options);
        if (op != BOOTREQUEST && op != BOOTREPLY) throw new IllegalArgumentException("op " + op);
        if (chaddr.length() > MAX_HLEN) throw new IllegalArgumentException("chaddr of " + chaddr.length() + " bytes");
        if (htype < 0 || htype > 255 || hops < 0 || hops > 255) throw new IllegalArgumentException("htype/hops out of range");
        if (secs < 0 || secs > 0xFFFF || flags < 0 || flags > 0xFFFF) throw new IllegalArgumentException("secs/flags out of range");
        sname = sname == null ? "" : sname;
        file = file == null ? "" : file;
    }

    public int hlen() { return chaddr.length(); }

    public boolean broadcastFlag() { return (flags & FLAG_BROADCAST) != 0; }

    public MessageType type() { return options.messageType().orElse(null); }

    /** Ethernet address as {@code 52:54:00:12:34:56}, or the raw chaddr for other hardware types. */
    public String clientMac() { return chaddr.toColonHex(); }

    public DhcpMessage withGiaddr(Ipv4 g) {
        return new DhcpMessage(op, htype, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, g, chaddr, sname, file, options);
    }

    public DhcpMessage withCiaddr(Ipv4 c) {
        return new DhcpMessage(op, htype, hops, xid, secs, flags, c, yiaddr, siaddr, giaddr, chaddr, sname, file, options);
    }

    public DhcpMessage withFlags(int f) {
        return new DhcpMessage(op, htype, hops, xid, secs, f, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file, options);
    }

    /** A request from a client, as tests and the probe build them. */
    public static DhcpMessage request(int xid, Bytes mac, DhcpOptions options) {
        return new DhcpMessage(BOOTREQUEST, HTYPE_ETHERNET, 0, xid, 0, 0, Ipv4.ANY, Ipv4.ANY, Ipv4.ANY, Ipv4.ANY,
                mac, "", "", options);
    }
}
