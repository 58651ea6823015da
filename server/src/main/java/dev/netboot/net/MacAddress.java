package dev.netboot.net;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Locale;

/** A 48-bit Ethernet address, kept in the low bits of a long so it is cheap to compare and hash. */
public record MacAddress(long bits) implements Comparable<MacAddress> {

    public static final MacAddress BROADCAST = new MacAddress(0xFFFF_FFFF_FFFFL);
    public static final MacAddress ZERO = new MacAddress(0);

    public MacAddress {
        if ((bits & ~0xFFFF_FFFF_FFFFL) != 0) throw new IllegalArgumentException("not a 48-bit address: " + Long.toHexString(bits));
    }

    public static MacAddress of(byte[] six) {
        if (six == null || six.length != 6) throw new IllegalArgumentException("a MAC address has 6 bytes");
        return read(ByteBuffer.wrap(six));
    }

    /** Reads 6 bytes at the buffer's position and advances it. */
    public static MacAddress read(ByteBuffer in) {
        long v = 0;
        for (int i = 0; i < 6; i++) v = v << 8 | (in.get() & 0xFF);
        return new MacAddress(v);
    }

    /** Reads 6 bytes at an absolute index. */
    public static MacAddress read(ByteBuffer in, int index) {
        long v = 0;
        for (int i = 0; i < 6; i++) v = v << 8 | (in.get(index + i) & 0xFF);
        return new MacAddress(v);
    }

    public void write(ByteBuffer out) {
        for (int i = 5; i >= 0; i--) out.put((byte) (bits >>> (8 * i)));
    }

    public byte[] toBytes() {
        byte[] b = new byte[6];
        write(ByteBuffer.wrap(b));
        return b;
    }

    /** Accepts {@code 52:54:00:12:34:56}, {@code 52-54-00-12-34-56} and {@code 525400123456}. */
    public static MacAddress parse(String text) {
        String hex = text.trim().replace(":", "").replace("-", "");
        if (hex.length() != 12) throw new IllegalArgumentException("not a MAC address: '" + text + "'");
        try {
            return new MacAddress(HexFormat.fromHexDigitsToLong(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a MAC address: '" + text + "'");
        }
    }

    /**
     * The one spelling of a MAC in text (inventory keys, file names, menus, logs): lower case with colons.
     * Accepts what {@link #parse} accepts; the message says which form is expected.
     */
    public static String normalize(String text) {
        try {
            return parse(text).toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a MAC address: '" + text + "' (expected 52:54:00:12:34:56)");
        }
    }

    public boolean isBroadcast() { return bits == BROADCAST.bits; }

    /** Group (multicast/broadcast) addresses never originate a frame; such a source is forged. */
    public boolean isGroup() { return (bits >>> 40 & 1) != 0; }

    @Override
    public int compareTo(MacAddress o) { return Long.compare(bits, o.bits); }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            if (i < 5) s.append(':');
            s.append(String.format(Locale.ROOT, "%02x", (bits >>> (8 * i)) & 0xFF));
        }
        return s.toString();
    }
}
