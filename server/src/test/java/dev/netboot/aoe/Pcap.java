package dev.netboot.aoe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the Ethernet frames of a classic libpcap file (either byte order). Test helper only. */
final class Pcap {
    private Pcap() {}

    static List<ByteBuffer> frames(Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int magic = in.getInt(0);
        if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) in.order(ByteOrder.BIG_ENDIAN);
        else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) throw new IOException(file + " is not a pcap file");
        int linkType = in.getInt(20);
        if (linkType != 1) throw new IOException(file + " has link type " + linkType + ", not Ethernet");
        in.position(24);
        List<ByteBuffer> frames = new ArrayList<>();
        while (in.remaining() >= 16) {
            in.getInt();
            in.getInt();
            int captured = in.getInt();
            in.getInt();
            frames.add(in.slice(in.position(), captured).order(ByteOrder.BIG_ENDIAN));
            in.position(in.position() + captured);
        }
        return frames;
    }

    static final Path CAPTURE = Path.of("src/test/resources/captures/pxe-boot-ipxe-dnsmasq-vblade.pcap");
}
