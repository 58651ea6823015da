package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes AoE r11 Ethernet frames. Pure functions over byte buffers: no sockets, no
 * state. Decoding never copies bulk data: payloads are read-only slices of the input buffer, so the
 * caller must not reuse that buffer while the decoded frame is in use.
 */
public final class AoeCodec {

    public static final int ETHERTYPE = 0x88A2;
    public static final int ETHERNET_HEADER = 14;
    public static final int AOE_HEADER = 10;
    /** Ethernet + AoE + ATA header: what every ATA frame carries before its data. */
    public static final int ATA_FRAME_OVERHEAD = ETHERNET_HEADER + AOE_HEADER + AoeMessage.Ata.HEADER_BYTES;
    /** Frames shorter than this are padded on the wire (60 bytes without the FCS). */
    public static final int MIN_FRAME = 60;

    private AoeCodec() {}

    public static AoeFrame decode(ByteBuffer frame) throws MalformedFrameException {
        ByteBuffer in = frame.slice().order(ByteOrder.BIG_ENDIAN);
        if (in.remaining() < ETHERNET_HEADER + AOE_HEADER)
            throw new MalformedFrameException("frame of " + in.remaining() + " bytes is shorter than the AoE header");
        MacAddress dst = MacAddress.read(in);
        MacAddress src = MacAddress.read(in);
        int type = in.getShort() & 0xFFFF;
        if (type != ETHERTYPE) throw new MalformedFrameException("ethertype 0x" + Integer.toHexString(type) + " is not AoE");
        int verFlags = in.get() & 0xFF;
        int error = in.get() & 0xFF;
        int shelf = in.getShort() & 0xFFFF;
        int slot = in.get() & 0xFF;
        int command = in.get() & 0xFF;
        int tag = in.getInt();
        AoeHeader header = new AoeHeader(verFlags >>> 4, (verFlags & AoeHeader.FLAG_RESPONSE) != 0,
                (verFlags & AoeHeader.FLAG_ERROR) != 0, error, shelf, slot, command, tag);
        AoeMessage message = switch (command) {
            case AoeCommand.ATA -> decodeAta(in);
            case AoeCommand.QUERY_CONFIG -> decodeConfig(in);
            case AoeCommand.MAC_MASK_LIST -> decodeMask(in);
            case AoeCommand.RESERVE_RELEASE -> decodeReserve(in);
            default -> new AoeMessage.Unknown(in.slice());
        };
        return new AoeFrame(dst, src, header, message);
    }

    private static AoeMessage.Ata decodeAta(ByteBuffer in) throws MalformedFrameException {
        need(in, AoeMessage.Ata.HEADER_BYTES, "ATA header");
        int aflags = in.get() & 0xFF;
        int errFeature = in.get() & 0xFF;
        int count = in.get() & 0xFF;
        int cmdStatus = in.get() & 0xFF;
        long lba = 0;
        for (int i = 0; i < 6; i++) lba |= (long) (in.get() & 0xFF) << (8 * i);
        in.getShort(); // reserved
        return new AoeMessage.Ata(aflags, errFeature, count, cmdStatus, lba, in.slice());
    }

    private static AoeMessage.QueryConfig decodeConfig(ByteBuffer in) throws MalformedFrameException {
        need(in, AoeMessage.QueryConfig.HEADER_BYTES, "Query Config header");
        int bufferCount = in.getShort() & 0xFFFF;
        int firmware = in.getShort() & 0xFFFF;
        int sectors = in.get() & 0xFF;
        int verCmd = in.get() & 0xFF;
        int length = in.getShort() & 0xFFFF;
        if (length > AoeMessage.QueryConfig.MAX_CONFIG) throw new MalformedFrameException("config string length " + length + " exceeds 1024");
        if (length > in.remaining()) throw new MalformedFrameException("config string length " + length + " but " + in.remaining() + " bytes follow");
        return new AoeMessage.QueryConfig(bufferCount, firmware, sectors, verCmd >>> 4, verCmd & 0x0F, in.slice(in.position(), length));
    }

    private static AoeMessage.MacMaskList decodeMask(ByteBuffer in) throws MalformedFrameException {
        need(in, AoeMessage.MacMaskList.HEADER_BYTES, "Mac Mask List header");
        in.get(); // reserved
        int mcmd = in.get() & 0xFF;
        int merror = in.get() & 0xFF;
        int count = in.get() & 0xFF;
        need(in, count * 8, count + " Mac Mask directives");
        List<AoeMessage.MacMaskList.Directive> directives = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            in.get(); // reserved
            int dcmd = in.get() & 0xFF;
            directives.add(new AoeMessage.MacMaskList.Directive(dcmd, MacAddress.read(in)));
        }
        return new AoeMessage.MacMaskList(mcmd, merror, directives);
    }

    private static AoeMessage.ReserveRelease decodeReserve(ByteBuffer in) throws MalformedFrameException {
        need(in, AoeMessage.ReserveRelease.HEADER_BYTES, "Reserve/Release header");
        int rcmd = in.get() & 0xFF;
        int count = in.get() & 0xFF;
        need(in, count * 6, count + " reserve MACs");
        List<MacAddress> macs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) macs.add(MacAddress.read(in));
        return new AoeMessage.ReserveRelease(rcmd, macs);
    }

    private static void need(ByteBuffer in, int bytes, String what) throws MalformedFrameException {
        if (in.remaining() < bytes) throw new MalformedFrameException(what + " needs " + bytes + " bytes, " + in.remaining() + " left");
    }

    /** Bytes {@link #encode} writes for this frame (without padding to {@link #MIN_FRAME}). */
    public static int encodedLength(AoeFrame frame) {
        return ETHERNET_HEADER + AOE_HEADER + switch (frame.message()) {
            case AoeMessage.Ata a -> AoeMessage.Ata.HEADER_BYTES + a.payload().remaining();
            case AoeMessage.QueryConfig c -> AoeMessage.QueryConfig.HEADER_BYTES + c.config().remaining();
            case AoeMessage.MacMaskList m -> AoeMessage.MacMaskList.HEADER_BYTES + 8 * m.directives().size();
            case AoeMessage.ReserveRelease r -> AoeMessage.ReserveRelease.HEADER_BYTES + 6 * r.macs().size();
            case AoeMessage.Unknown u -> u.argument().remaining();
        };
    }

    public static ByteBuffer encode(AoeFrame frame) {
        ByteBuffer out = ByteBuffer.allocate(encodedLength(frame));
        encode(frame, out);
        return out.flip();
    }

    /** Writes the frame at the buffer's position and advances it. */
    public static void encode(AoeFrame frame, ByteBuffer out) {
        encodeHeaders(frame.destination(), frame.source(), frame.header(), out);
        switch (frame.message()) {
            case AoeMessage.Ata a -> {
                encodeAtaHeader(a, out);
                out.put(a.payload().duplicate());
            }
            case AoeMessage.QueryConfig c -> {
                out.putShort((short) c.bufferCount());
                out.putShort((short) c.firmwareVersion());
                out.put((byte) c.sectorCount());
                out.put((byte) (c.aoeVersion() << 4 | c.subCommand() & 0x0F));
                out.putShort((short) c.config().remaining());
                out.put(c.config().duplicate());
            }
            case AoeMessage.MacMaskList m -> {
                out.put((byte) 0);
                out.put((byte) m.subCommand());
                out.put((byte) m.maskError());
                out.put((byte) m.directives().size());
                for (AoeMessage.MacMaskList.Directive d : m.directives()) {
                    out.put((byte) 0);
                    out.put((byte) d.command());
                    d.mac().write(out);
                }
            }
            case AoeMessage.ReserveRelease r -> {
                out.put((byte) r.subCommand());
                out.put((byte) r.macs().size());
                for (MacAddress mac : r.macs()) mac.write(out);
            }
            case AoeMessage.Unknown u -> out.put(u.argument().duplicate());
        }
    }

    /** Ethernet and AoE headers: what every frame starts with. */
    public static void encodeHeaders(MacAddress dst, MacAddress src, AoeHeader h, ByteBuffer out) {
        dst.write(out);
        src.write(out);
        out.putShort((short) ETHERTYPE);
        out.put((byte) (h.version() << 4 | (h.response() ? AoeHeader.FLAG_RESPONSE : 0) | (h.error() ? AoeHeader.FLAG_ERROR : 0)));
        out.put((byte) h.errorCode());
        out.putShort((short) h.shelf());
        out.put((byte) h.slot());
        out.put((byte) h.command());
        out.putInt(h.tag());
    }

    /** The 12-byte ATA header without payload; a read reply's data is then written straight after it. */
    /**
     * Turns an encoded read reply (headers at 0) into the error reply {@link AoeResponder#ioFailed} gives:
     * ATA status DRDY|ERR, error UNC, no data. For a read whose data could not be sent from a mapping.
     * Returns the frame's new length.
     */
    public static int markReadFailed(ByteBuffer frame) {
        int ata = ETHERNET_HEADER + AOE_HEADER;
        frame.put(ata + 1, (byte) Ata.failedError(true));
        frame.put(ata + 3, (byte) Ata.FAILED_STATUS);
        for (int i = ATA_FRAME_OVERHEAD; i < MIN_FRAME; i++) frame.put(i, (byte) 0);
        return Math.max(ATA_FRAME_OVERHEAD, MIN_FRAME);
    }

    public static void encodeAtaHeader(AoeMessage.Ata a, ByteBuffer out) {
        out.put((byte) a.aflags());
        out.put((byte) a.errFeature());
        out.put((byte) a.sectorCount());
        out.put((byte) a.cmdStatus());
        for (int i = 0; i < 6; i++) out.put((byte) (a.lba() >>> (8 * i)));
        out.putShort((short) 0);
    }
}
