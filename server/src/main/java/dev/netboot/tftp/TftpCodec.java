package dev.netboot.tftp;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Encodes and decodes TFTP packets. Pure functions over byte buffers: no sockets, no state,
 * so every rule here is unit- and property-tested on its own.
 */
public final class TftpCodec {

    /** RFC 2348: the largest block a DATA packet may carry. */
    public static final int MAX_BLOCK_SIZE = 65464;
    /** Longest filename/option string we accept; real boot clients send far less. */
    static final int MAX_STRING = 1024;
    private static final int MAX_OPTIONS = 32;

    private TftpCodec() {}

    public static TftpPacket decode(ByteBuffer datagram) throws MalformedPacketException {
        ByteBuffer in = datagram.duplicate();
        if (in.remaining() < 2) throw new MalformedPacketException("datagram of " + in.remaining() + " bytes is shorter than an opcode");
        int opcode = in.getShort() & 0xFFFF;
        return switch (opcode) {
            case 1, 2 -> decodeRequest(opcode, in);
            case 3 -> {
                int block = block(in, "DATA");
                if (in.remaining() > MAX_BLOCK_SIZE) throw new MalformedPacketException("DATA payload of " + in.remaining() + " bytes exceeds " + MAX_BLOCK_SIZE);
                ByteBuffer payload = ByteBuffer.allocate(in.remaining()).put(in).flip();
                yield new TftpPacket.Data(block, payload);
            }
            case 4 -> {
                int block = block(in, "ACK");
                if (in.hasRemaining()) throw new MalformedPacketException("ACK has " + in.remaining() + " trailing bytes");
                yield new TftpPacket.Ack(block);
            }
            case 5 -> {
                if (in.remaining() < 2) throw new MalformedPacketException("ERROR packet without error code");
                int code = in.getShort() & 0xFFFF;
                // Many clients omit the terminating NUL of the message; accept that, it costs nothing.
                String message = in.hasRemaining() ? readString(in, "error message", true) : "";
                yield new TftpPacket.Error(TftpError.of(code), message);
            }
            case 6 -> new TftpPacket.OptionAck(readOptions(in));
            default -> throw new MalformedPacketException("unknown opcode " + opcode);
        };
    }

    private static TftpPacket decodeRequest(int opcode, ByteBuffer in) throws MalformedPacketException {
        String filename = readString(in, "filename", false);
        if (filename.isEmpty()) throw new MalformedPacketException("empty filename");
        String mode = readString(in, "mode", false).toLowerCase(Locale.ROOT);
        Map<String, String> options = readOptions(in);
        return opcode == 1
                ? new TftpPacket.ReadRequest(filename, mode, options)
                : new TftpPacket.WriteRequest(filename, mode, options);
    }

    private static Map<String, String> readOptions(ByteBuffer in) throws MalformedPacketException {
        Map<String, String> options = new LinkedHashMap<>();
        while (in.hasRemaining()) {
            // Some clients pad requests with trailing NULs (e.g. to a minimum size); they carry no option.
            if (allZero(in)) break;
            String name = readString(in, "option name", false).toLowerCase(Locale.ROOT);
            if (!in.hasRemaining()) throw new MalformedPacketException("option '" + name + "' has no value");
            String value = readString(in, "value of option '" + name + "'", false);
            if (name.isEmpty()) throw new MalformedPacketException("empty option name");
            if (options.size() >= MAX_OPTIONS) throw new MalformedPacketException("more than " + MAX_OPTIONS + " options");
            if (options.putIfAbsent(name, value) != null) throw new MalformedPacketException("option '" + name + "' given twice");
        }
        return options;
    }

    private static boolean allZero(ByteBuffer in) {
        for (int i = in.position(); i < in.limit(); i++) if (in.get(i) != 0) return false;
        return true;
    }

    private static int block(ByteBuffer in, String what) throws MalformedPacketException {
        if (in.remaining() < 2) throw new MalformedPacketException(what + " packet without block number");
        return in.getShort() & 0xFFFF;
    }

    /** Reads a NUL-terminated string (RFC 1350 says netascii; we accept any byte but NUL as Latin-1 and refuse controls). */
    private static String readString(ByteBuffer in, String what, boolean nulOptional) throws MalformedPacketException {
        int start = in.position();
        int end = start;
        while (end < in.limit() && in.get(end) != 0) end++;
        boolean terminated = end < in.limit();
        if (!terminated && !nulOptional) throw new MalformedPacketException(what + " is not NUL-terminated");
        int length = end - start;
        if (length > MAX_STRING) throw new MalformedPacketException(what + " is longer than " + MAX_STRING + " bytes");
        byte[] bytes = new byte[length];
        in.get(bytes);
        if (terminated) in.get();
        for (byte b : bytes) {
            if ((b & 0xFF) < 0x20 && !nulOptional) throw new MalformedPacketException(what + " contains control byte 0x" + Integer.toHexString(b & 0xFF));
        }
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** Encoded size of a packet, so adapters can size one buffer exactly. */
    public static int encodedLength(TftpPacket packet) {
        return switch (packet) {
            case TftpPacket.ReadRequest r -> 2 + requestLength(r.filename(), r.mode(), r.options());
            case TftpPacket.WriteRequest w -> 2 + requestLength(w.filename(), w.mode(), w.options());
            case TftpPacket.Data d -> 4 + d.length();
            case TftpPacket.Ack a -> 4;
            case TftpPacket.Error e -> 4 + latin1(e.message()).length + 1;
            case TftpPacket.OptionAck o -> 2 + optionsLength(o.options());
        };
    }

    public static ByteBuffer encode(TftpPacket packet) {
        ByteBuffer out = ByteBuffer.allocate(encodedLength(packet));
        encodeInto(packet, out);
        return out.flip();
    }

    /** Writes the packet at the buffer's position; the buffer must have {@link #encodedLength} bytes left. */
    public static void encodeInto(TftpPacket packet, ByteBuffer out) {
        out.putShort((short) packet.opcode());
        switch (packet) {
            case TftpPacket.ReadRequest r -> putRequest(out, r.filename(), r.mode(), r.options());
            case TftpPacket.WriteRequest w -> putRequest(out, w.filename(), w.mode(), w.options());
            case TftpPacket.Data d -> out.putShort((short) d.block()).put(d.payload().duplicate());
            case TftpPacket.Ack a -> out.putShort((short) a.block());
            case TftpPacket.Error e -> {
                out.putShort((short) e.code().code());
                putString(out, e.message());
            }
            case TftpPacket.OptionAck o -> putOptions(out, o.options());
        }
    }

    private static int requestLength(String filename, String mode, Map<String, String> options) {
        return latin1(filename).length + 1 + latin1(mode).length + 1 + optionsLength(options);
    }

    private static int optionsLength(Map<String, String> options) {
        int n = 0;
        for (var e : options.entrySet()) n += latin1(e.getKey()).length + 1 + latin1(e.getValue()).length + 1;
        return n;
    }

    private static void putRequest(ByteBuffer out, String filename, String mode, Map<String, String> options) {
        putString(out, filename);
        putString(out, mode);
        putOptions(out, options);
    }

    private static void putOptions(ByteBuffer out, Map<String, String> options) {
        for (var e : options.entrySet()) {
            putString(out, e.getKey());
            putString(out, e.getValue());
        }
    }

    private static void putString(ByteBuffer out, String s) {
        out.put(latin1(s)).put((byte) 0);
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
