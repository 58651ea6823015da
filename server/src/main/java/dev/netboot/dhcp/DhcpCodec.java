package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Encodes and decodes DHCP messages. Pure functions over byte buffers: no sockets and no state.
 * Everything a hostile or broken client can put in a datagram either decodes or ends in a
 * {@link MalformedPacketException}; no other exception escapes {@link #decode}. sname and file are
 * read as ISO-8859-1, so every byte survives a decode/encode round trip.
 */
public final class DhcpCodec {

    public static final int MAGIC_COOKIE = 0x63825363;
    /** op..file, before the magic cookie. */
    static final int FIXED_LENGTH = 236;
    static final int SNAME_OFFSET = 44;
    static final int SNAME_LENGTH = 64;
    static final int FILE_OFFSET = 108;
    static final int FILE_LENGTH = 128;
    /** RFC 1542 §2.1: relays and old clients expect at least a 300-byte BOOTP message. */
    static final int MIN_ENCODED = 300;

    private DhcpCodec() {}

    public static DhcpMessage decode(ByteBuffer datagram) throws MalformedPacketException {
        ByteBuffer in = datagram.duplicate();
        int start = in.position();
        int length = in.remaining();
        if (length < FIXED_LENGTH + 4) throw new MalformedPacketException("truncated", "datagram of " + length + " bytes is shorter than a DHCP header with cookie (240)");
        int op = u8(in, start);
        if (op != DhcpMessage.BOOTREQUEST && op != DhcpMessage.BOOTREPLY) throw new MalformedPacketException("bad-op", "op " + op + " is neither BOOTREQUEST nor BOOTREPLY");
        int htype = u8(in, start + 1);
        int hlen = u8(in, start + 2);
        if (hlen > DhcpMessage.MAX_HLEN) throw new MalformedPacketException("bad-hlen", "hardware address length " + hlen + " exceeds 16");
        int hops = u8(in, start + 3);
        int xid = in.getInt(start + 4);
        int secs = in.getShort(start + 8) & 0xFFFF;
        int flags = in.getShort(start + 10) & 0xFFFF;
        Ipv4 ciaddr = new Ipv4(in.getInt(start + 12));
        Ipv4 yiaddr = new Ipv4(in.getInt(start + 16));
        Ipv4 siaddr = new Ipv4(in.getInt(start + 20));
        Ipv4 giaddr = new Ipv4(in.getInt(start + 24));
        byte[] chaddr = new byte[hlen];
        in.get(start + 28, chaddr);
        if (in.getInt(start + FIXED_LENGTH) != MAGIC_COOKIE) {
            throw new MalformedPacketException("bad-cookie", String.format("magic cookie 0x%08x instead of 0x63825363", in.getInt(start + FIXED_LENGTH)));
        }
        Map<Integer, ByteArrayOutputStream> options = new LinkedHashMap<>();
        readOptions(in, start + FIXED_LENGTH + 4, start + length, options, "options", false);
        int overload = 0;
        ByteArrayOutputStream ov = options.remove(OptionCode.OVERLOAD);
        if (ov != null) {
            if (ov.size() != 1 || ov.toByteArray()[0] < 1 || ov.toByteArray()[0] > 3) {
                throw new MalformedPacketException("bad-overload", "option 52 must be one byte 1..3, got " + ov.size() + " bytes");
            }
            overload = ov.toByteArray()[0];
        }
        // RFC 3396 §7: the options field first, then file, then sname.
        if ((overload & 1) != 0) readOptions(in, start + FILE_OFFSET, start + FILE_OFFSET + FILE_LENGTH, options, "file", true);
        if ((overload & 2) != 0) readOptions(in, start + SNAME_OFFSET, start + SNAME_OFFSET + SNAME_LENGTH, options, "sname", true);
        String sname = (overload & 2) != 0 ? "" : cString(in, start + SNAME_OFFSET, SNAME_LENGTH);
        String file = (overload & 1) != 0 ? "" : cString(in, start + FILE_OFFSET, FILE_LENGTH);
        Map<Integer, Bytes> values = new LinkedHashMap<>(options.size() * 2);
        options.forEach((code, value) -> values.put(code, Bytes.wrap(value.toByteArray())));
        return new DhcpMessage(op, htype, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr,
                Bytes.wrap(chaddr), sname, file, DhcpOptions.of(values));
    }

    /**
     * Reads code/length/value triples from {@code [from, to)}. Repeated codes are concatenated
     * (RFC 3396). An overload option inside an overloaded field would make the fields point at
     * each other: that is rejected, which is the loop protection.
     */
    private static void readOptions(ByteBuffer in, int from, int to, Map<Integer, ByteArrayOutputStream> into,
                                    String field, boolean overloaded) throws MalformedPacketException {
        int i = from;
        while (i < to) {
            int code = in.get(i) & 0xFF;
            if (code == OptionCode.END) return;
            if (code == OptionCode.PAD) {
                i++;
                continue;
            }
            if (i + 1 >= to) throw new MalformedPacketException("option-overrun", "option " + code + " in " + field + " has no length byte");
            int len = in.get(i + 1) & 0xFF;
            if (i + 2 + len > to) {
                throw new MalformedPacketException("option-overrun", "option " + code + " in " + field + " claims " + len + " bytes, " + (to - i - 2) + " remain");
            }
            if (code == OptionCode.OVERLOAD && overloaded) {
                throw new MalformedPacketException("overload-loop", "option 52 inside the overloaded " + field + " field");
            }
            ByteArrayOutputStream value = into.computeIfAbsent(code, c -> new ByteArrayOutputStream(len));
            byte[] chunk = new byte[len];
            in.get(i + 2, chunk);
            value.writeBytes(chunk);
            i += 2 + len;
        }
        // A missing END is common among small clients and harmless: the field ended anyway.
    }

    public static byte[] encode(DhcpMessage m) {
        int optionBytes = 1; // END
        for (Bytes v : m.options().asMap().values()) optionBytes += 2 * Math.max(1, (v.length() + 254) / 255) + v.length();
        int size = Math.max(MIN_ENCODED, FIXED_LENGTH + 4 + optionBytes);
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) m.op()).put((byte) m.htype()).put((byte) m.hlen()).put((byte) m.hops());
        out.putInt(m.xid()).putShort((short) m.secs()).putShort((short) m.flags());
        out.putInt(m.ciaddr().bits()).putInt(m.yiaddr().bits()).putInt(m.siaddr().bits()).putInt(m.giaddr().bits());
        out.put(28, m.chaddr().unsafeArray());
        putCString(out, SNAME_OFFSET, SNAME_LENGTH, m.sname(), "sname");
        putCString(out, FILE_OFFSET, FILE_LENGTH, m.file(), "file");
        out.position(FIXED_LENGTH);
        out.putInt(MAGIC_COOKIE);
        for (Map.Entry<Integer, Bytes> e : m.options().asMap().entrySet()) {
            byte[] v = e.getValue().unsafeArray();
            int off = 0;
            do { // RFC 3396: a value over 255 bytes goes out as consecutive instances.
                int len = Math.min(255, v.length - off);
                out.put(e.getKey().byteValue()).put((byte) len).put(v, off, len);
                off += len;
            } while (off < v.length);
        }
        out.put((byte) OptionCode.END);
        return out.array();
    }

    private static void putCString(ByteBuffer out, int offset, int length, String s, String field) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        // The field must keep a terminating NUL; a longer name belongs in option 66/67 alone.
        if (b.length >= length) throw new IllegalArgumentException(field + " '" + s + "' does not fit in " + (length - 1) + " bytes");
        out.put(offset, b);
    }

    private static int u8(ByteBuffer in, int index) { return in.get(index) & 0xFF; }

    private static String cString(ByteBuffer in, int offset, int length) {
        int end = 0;
        while (end < length && in.get(offset + end) != 0) end++;
        byte[] b = new byte[end];
        in.get(offset, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
