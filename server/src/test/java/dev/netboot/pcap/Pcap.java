package dev.netboot.pcap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal reader of classic libpcap files with Ethernet frames, for codec fixtures taken from
 * real traffic. Only what tests need: frames, and the UDP payloads of IPv4 frames.
 */
public final class Pcap {

    /** The capture of a whole PXE boot, see /work/shared/captures/README.md; copied into test resources. */
    public static final String PXE_BOOT = "/captures/pxe-boot-ipxe-dnsmasq-vblade.pcap";

    /**
     * A UEFI PC's own PXE client against our server (full DHCP, TFTP): Debian 12's OVMF 2022.11 in qemu,
     * virtio NIC without ROM, taken on the lab bridge of app.UefiBootIT with tcpdump. The firmware's
     * DISCOVER/OFFER/REQUEST/ACK (arch 7, broadcast flag), its tsize query (RRQ, OACK, ERROR 8) and the
     * start of the real read (RRQ blksize 1468 windowsize 4, OACK, ACK 0, DATA 1).
     */
    public static final String EDK2_PXE = "/captures/uefi-pxe-ovmf-edk2.pcap";

    /**
     * OVMF's own UEFI HTTP boot (same firmware and lab as {@link #EDK2_PXE}, IPv4 PXE switched off):
     * DISCOVER/OFFER/REQUEST/ACK with option 60 {@code HTTPClient:Arch:00016:UNDI:003000}, option 93 = 16.
     */
    public static final String EDK2_HTTP_BOOT = "/captures/uefi-httpboot-ovmf-edk2.pcap";

    public record Frame(int index, byte[] data) {}

    public record Udp(int frameIndex, byte[] srcIp, int srcPort, byte[] dstIp, int dstPort, byte[] payload) {}

    private Pcap() {}

    public static List<Frame> frames(byte[] file) {
        ByteBuffer in = ByteBuffer.wrap(file);
        int magic = in.getInt(0);
        if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) in.order(ByteOrder.LITTLE_ENDIAN);
        else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) throw new IllegalArgumentException("not a pcap file");
        if (in.getInt(20) != 1) throw new IllegalArgumentException("link type " + in.getInt(20) + " is not Ethernet");
        List<Frame> frames = new ArrayList<>();
        int pos = 24;
        while (pos + 16 <= file.length) {
            int incl = in.getInt(pos + 8);
            if (incl < 0 || pos + 16 + incl > file.length) break; // a record still being written
            byte[] data = new byte[incl];
            System.arraycopy(file, pos + 16, data, 0, incl);
            frames.add(new Frame(frames.size(), data));
            pos += 16 + incl;
        }
        return frames;
    }

    public static List<Frame> frames(Class<?> owner, String resource) throws IOException {
        try (var s = owner.getResourceAsStream(resource)) {
            if (s == null) throw new IOException("test resource " + resource + " is missing");
            return frames(s.readAllBytes());
        }
    }

    public static List<Frame> frames(Path file) throws IOException { return frames(Files.readAllBytes(file)); }

    /** UDP datagrams in IPv4 frames (no fragments, no VLAN tags), in capture order. */
    public static List<Udp> udp(List<Frame> frames) {
        List<Udp> out = new ArrayList<>();
        for (Frame f : frames) {
            ByteBuffer b = ByteBuffer.wrap(f.data());
            if (f.data().length < 14 + 20 + 8 || (b.getShort(12) & 0xFFFF) != 0x0800) continue;
            int ihl = (b.get(14) & 0x0F) * 4;
            if ((b.get(14 + 9) & 0xFF) != 17) continue;
            int udp = 14 + ihl;
            int len = (b.getShort(udp + 4) & 0xFFFF) - 8;
            if (udp + 8 + len > f.data().length) continue; // truncated by the capture's snap length
            byte[] src = new byte[4];
            byte[] dst = new byte[4];
            b.get(14 + 12, src).get(14 + 16, dst);
            byte[] payload = new byte[len];
            b.get(udp + 8, payload);
            out.add(new Udp(f.index(), src, b.getShort(udp) & 0xFFFF, dst, b.getShort(udp + 2) & 0xFFFF, payload));
        }
        return out;
    }
}
