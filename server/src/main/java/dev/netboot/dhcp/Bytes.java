package dev.netboot.dhcp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An immutable byte string with value equality, so records holding option values and hardware
 * addresses compare by content.
 */
public final class Bytes {

    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] value;

    private Bytes(byte[] value) { this.value = value; }

    public static Bytes of(byte... value) { return value.length == 0 ? EMPTY : new Bytes(value.clone()); }

    public static Bytes utf8(String s) { return new Bytes(s.getBytes(StandardCharsets.UTF_8)); }

    public static Bytes hex(String hex) { return new Bytes(HexFormat.of().parseHex(hex.replace(":", "").replace("-", ""))); }

    /** Takes ownership of {@code value}: for the codec, which never touches the array again. */
    static Bytes wrap(byte[] value) { return value.length == 0 ? EMPTY : new Bytes(value); }

    public int length() { return value.length; }

    public int get(int i) { return value[i] & 0xFF; }

    public byte[] toArray() { return value.clone(); }

    byte[] unsafeArray() { return value; }

    public Bytes slice(int from, int to) { return wrap(Arrays.copyOfRange(value, from, to)); }

    public String toHex() { return HexFormat.of().formatHex(value); }

    /** Colon-separated hex, the way MAC addresses and client identifiers are shown. */
    public String toColonHex() { return HexFormat.ofDelimiter(":").formatHex(value); }

    /** The bytes as text up to the first NUL (C strings in sname/file and some options). */
    public String toCString() {
        int end = 0;
        while (end < value.length && value[end] != 0) end++;
        return new String(value, 0, end, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) { return o instanceof Bytes b && Arrays.equals(value, b.value); }

    @Override
    public int hashCode() { return Arrays.hashCode(value); }

    @Override
    public String toString() { return toColonHex(); }
}
