package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The options of one message: code → value, in the order they appeared (or will be written).
 * Values are whole: an option split over several instances or overloaded fields (RFC 3396) was
 * joined by the decoder, and a value over 255 bytes is split again by the encoder.
 */
public final class DhcpOptions {

    public static final DhcpOptions NONE = new DhcpOptions(Map.of());

    private final Map<Integer, Bytes> values;

    private DhcpOptions(Map<Integer, Bytes> values) { this.values = values; }

    public static DhcpOptions of(Map<Integer, Bytes> values) {
        for (int code : values.keySet()) checkCode(code);
        return new DhcpOptions(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }

    public static DhcpOptions build(Consumer<Builder> body) {
        Builder b = new Builder();
        body.accept(b);
        return b.build();
    }

    static void checkCode(int code) {
        if (code <= 0 || code >= 255) throw new IllegalArgumentException("option code " + code + " is reserved (pad/end) or out of range");
    }

    public Map<Integer, Bytes> asMap() { return values; }

    public boolean has(int code) { return values.containsKey(code); }

    public Optional<Bytes> get(int code) { return Optional.ofNullable(values.get(code)); }

    public int size() { return values.size(); }

    public Optional<MessageType> messageType() {
        Bytes v = values.get(OptionCode.MESSAGE_TYPE);
        return v == null || v.length() != 1 ? Optional.empty() : Optional.ofNullable(MessageType.of(v.get(0)));
    }

    /** An option holding one IPv4 address (50, 54, 1); empty when absent or not 4 bytes long. */
    public Optional<Ipv4> address(int code) {
        Bytes v = values.get(code);
        if (v == null || v.length() != 4) return Optional.empty();
        return Optional.of(Ipv4.of(v.get(0), v.get(1), v.get(2), v.get(3)));
    }

    /** An option holding an unsigned 32-bit number (51, 58, 59). */
    public Optional<Long> uint32(int code) {
        Bytes v = values.get(code);
        if (v == null || v.length() != 4) return Optional.empty();
        return Optional.of((long) v.get(0) << 24 | (long) v.get(1) << 16 | (long) v.get(2) << 8 | v.get(3));
    }

    public Optional<Integer> uint16(int code) {
        Bytes v = values.get(code);
        if (v == null || v.length() != 2) return Optional.empty();
        return Optional.of(v.get(0) << 8 | v.get(1));
    }

    /** A text option (12, 15, 60, 66, 67); a trailing NUL, which some servers add, is not part of it. */
    public Optional<String> text(int code) {
        Bytes v = values.get(code);
        return v == null ? Optional.empty() : Optional.of(v.toCString());
    }

    /**
     * Option 77. RFC 3004 encodes each class as length-prefixed data; iPXE and some old clients send
     * one class as the raw string ("iPXE"). If the value does not parse exactly as the RFC form, the
     * whole value is one class.
     */
    public List<String> userClasses() {
        Bytes v = values.get(OptionCode.USER_CLASS);
        if (v == null || v.length() == 0) return List.of();
        List<String> classes = new ArrayList<>();
        int i = 0;
        while (i < v.length()) {
            int len = v.get(i);
            if (len == 0 || i + 1 + len > v.length()) return List.of(v.toCString());
            classes.add(new String(v.unsafeArray(), i + 1, len, StandardCharsets.UTF_8));
            i += 1 + len;
        }
        return List.copyOf(classes);
    }

    /** Option 93: the first architecture type the client lists (RFC 4578 allows several). */
    public Optional<Integer> clientArch() {
        Bytes v = values.get(OptionCode.CLIENT_ARCH);
        if (v == null || v.length() < 2 || v.length() % 2 != 0) return Optional.empty();
        return Optional.of(v.get(0) << 8 | v.get(1));
    }

    /**
     * Option 97: type 0 followed by a 16-byte UUID, shown in the SMBIOS byte order PXE uses
     * (first three fields little-endian), which is what {@code dmidecode} prints.
     */
    public Optional<String> clientUuid() {
        Bytes v = values.get(OptionCode.CLIENT_UUID);
        if (v == null || v.length() != 17 || v.get(0) != 0) return Optional.empty();
        int[] order = {4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16};
        StringBuilder s = new StringBuilder(36);
        for (int k = 0; k < 16; k++) {
            if (k == 4 || k == 6 || k == 8 || k == 10) s.append('-');
            s.append(String.format("%02x", v.get(order[k])));
        }
        return Optional.of(s.toString());
    }

    public List<Integer> parameterRequestList() {
        Bytes v = values.get(OptionCode.PARAMETER_REQUEST_LIST);
        if (v == null) return List.of();
        List<Integer> codes = new ArrayList<>(v.length());
        for (int i = 0; i < v.length(); i++) codes.add(v.get(i));
        return codes;
    }

    @Override
    public boolean equals(Object o) {
        // Order is part of the wire form but not of the meaning.
        return o instanceof DhcpOptions d && values.equals(d.values);
    }

    @Override
    public int hashCode() { return values.hashCode(); }

    @Override
    public String toString() { return values.toString(); }

    /** Builds options in insertion order; setting a code again replaces its value in place. */
    public static final class Builder {
        private final LinkedHashMap<Integer, Bytes> values = new LinkedHashMap<>();

        public Builder put(int code, Bytes value) {
            checkCode(code);
            values.put(code, value);
            return this;
        }

        public Builder bytes(int code, byte... value) { return put(code, Bytes.of(value)); }

        public Builder uint8(int code, int v) { return bytes(code, (byte) v); }

        public Builder uint16(int code, int v) { return bytes(code, (byte) (v >>> 8), (byte) v); }

        public Builder uint32(int code, long v) {
            return bytes(code, (byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v);
        }

        public Builder address(int code, Ipv4 a) { return put(code, Bytes.wrap(a.toBytes())); }

        public Builder addresses(int code, List<Ipv4> list) {
            byte[] out = new byte[list.size() * 4];
            for (int i = 0; i < list.size(); i++) System.arraycopy(list.get(i).toBytes(), 0, out, i * 4, 4);
            return put(code, Bytes.wrap(out));
        }

        public Builder text(int code, String s) { return put(code, Bytes.utf8(s)); }

        public Builder messageType(MessageType t) { return uint8(OptionCode.MESSAGE_TYPE, t.code()); }

        public Builder remove(int code) {
            values.remove(code);
            return this;
        }

        public boolean has(int code) { return values.containsKey(code); }

        public DhcpOptions build() { return new DhcpOptions(Collections.unmodifiableMap(new LinkedHashMap<>(values))); }
    }
}
