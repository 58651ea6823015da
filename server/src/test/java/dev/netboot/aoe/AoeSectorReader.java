package dev.netboot.aoe;

import dev.netboot.packet.PacketSocket;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * An AoE initiator that reads one sector, as its own program so it runs inside a client namespace
 * ({@code ip netns exec ... java dev.netboot.aoe.AoeSectorReader}): aoetools identify and discover but
 * never read. The request is built byte by byte from the AoE r11 spec, not with the server's codec, and
 * sent unicast to the target's MAC as the Linux driver does once it knows it.
 *
 * <p>Arguments: {@code interface targetMac shelf slot lba}. Prints {@code read HEX} (the first 32 bytes of
 * the sector) and exits 0, or prints {@code no reply} and exits 1 after three tries of a second each.
 */
public final class AoeSectorReader {

    public static void main(String[] args) throws Exception {
        String nic = args[0];
        byte[] target = HexFormat.ofDelimiter(":").parseHex(args[1]);
        int shelf = Integer.parseInt(args[2]), slot = Integer.parseInt(args[3]);
        long lba = Long.parseLong(args[4]);
        try (PacketSocket socket = PacketSocket.open(nic, 0x88A2, 1 << 20, 1000);
             PacketSocket.Batch rx = new PacketSocket.Batch(16, 1600)) {
            int tag = 0x5EC70000;
            for (int attempt = 0; attempt < 3; attempt++, tag++) {
                socket.sendOne(request(target, socket.mac(), shelf, slot, tag, lba));
                long deadline = System.nanoTime() + 1_000_000_000L;
                while (System.nanoTime() < deadline) {
                    int n = socket.receive(rx);
                    for (int i = 0; i < n; i++) {
                        ByteBuffer f = rx.received(i);
                        if (f.remaining() < 36 + 512 || (f.get(14) & 0x08) == 0 || f.getInt(20) != tag) continue;
                        if ((f.get(14) & 0x04) != 0 || (f.get(27) & 0x01) != 0) {
                            System.out.println("error reply");
                            System.exit(2);
                        }
                        byte[] head = new byte[32];
                        f.get(36, head);
                        System.out.println("read " + HexFormat.of().formatHex(head));
                        return;
                    }
                }
            }
        }
        System.out.println("no reply");
        System.exit(1);
    }

    /** Ethernet header, AoE header (version 1, command 0 = ATA), ATA header: READ SECTORS EXT of one sector. */
    static ByteBuffer request(byte[] to, byte[] from, int shelf, int slot, int tag, long lba) {
        ByteBuffer b = ByteBuffer.allocate(60); // the Ethernet minimum; the rest is padding
        b.put(to).put(from).putShort((short) 0x88A2);
        b.put((byte) 0x10).put((byte) 0).putShort((short) shelf).put((byte) slot).put((byte) 0).putInt(tag);
        b.put((byte) 0x40) // extended (LBA48)
                .put((byte) 0).put((byte) 1).put((byte) 0x24); // feature, sector count, READ SECTORS EXT
        for (int i = 0; i < 6; i++) b.put((byte) (lba >>> (8 * i)));
        b.putShort((short) 0);
        return b.clear();
    }
}
