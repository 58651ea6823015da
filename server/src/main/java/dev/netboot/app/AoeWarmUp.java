package dev.netboot.app;

import dev.netboot.aoe.AoeCodec;
import dev.netboot.aoe.AoeCommand;
import dev.netboot.aoe.AoeFrame;
import dev.netboot.aoe.AoeHeader;
import dev.netboot.aoe.AoeMessage;
import dev.netboot.aoe.AoeResponder;
import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.MalformedFrameException;
import dev.netboot.aoe.Ata;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.TargetDefinition;
import dev.netboot.net.MacAddress;
import dev.netboot.packet.PacketSocket;
import dev.netboot.disks.StateFiles;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.ReadTuning;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Before the AoE target opens, an initiator of our own reads and writes two scratch disks through an AoE server of its
 * own on the loopback interface ({@code tuning.aoeWarmUpFrames} frames), so the JIT compiles the per-frame path before
 * a PC's initrd finds its disk. Why: on a fresh JVM the first frames of a boot ran interpreted, then C2 compiled for a
 * quarter of a second on the CPUs the booting PC shares (bench/boot.sh: link up to the image's init took 0.9 s against
 * vblade's 0.6 s). It is the real path, not a model of it: the same server, receive thread, packet socket (ring or
 * recvmmsg, as configured), effect runner and reply sink, the disk classes PCs get (a clone overlay over an image
 * file, and a plain file) and the real target-state files (in its scratch folder), so the code compiled is the code
 * that serves, with the same classes seen at each call. (With a do-nothing state store of its own, the real one's
 * class, loaded when the target started, made HotSpot throw the compiled effect runner away before the first PC.)
 * The loopback device delivers the frames a packet socket sends on it to the other packet sockets on it, which is what
 * lets the two talk. It never stops the start: a failure (no loopback, no CAP_NET_RAW) is one log line.
 */
final class AoeWarmUp {

    private static final String LOOPBACK = "lo";
    private static final MacAddress INITIATOR = MacAddress.parse("02:6e:62:00:00:01");
    private static final TargetAddress CLONE = new TargetAddress(65534, 253), PLAIN = new TargetAddress(65534, 252);
    private static final int DISK_BYTES = 4 << 20;
    /** Frames in flight, as the Linux driver keeps a window of them. */
    private static final int WINDOW = 16;
    /**
     * Set in every tag: the Linux aoe driver ignores replies whose tag has it (aoenet_rcv), and on the loopback
     * device it would see ours, and take the warm-up's targets for disks, on a host with the module loaded.
     */
    private static final int FOREIGN_TAG = 1 << 31;
    /** What an MTU of 1500 carries: the initiators PCs boot with ask for this many sectors per frame. */
    private static final int SECTORS = 2;

    private AoeWarmUp() {}

    /**
     * Runs about {@code frames} requests (reads, writes, some identify, flush and config queries); returns how long it took.
     *
     * @param discoveries told of each config query the warm-up's targets answer: pass the listener the real target
     *                    gets (the boot timeline's, which records nothing for the warm-up's MAC, no client of ours), so
     *                    the compiled per-frame path has seen the listener class PCs' discoveries go to
     */
    static Duration run(int frames, int bufferCount, boolean packetRing, long spinNanos, ReadTuning tuning, Path scratchParent,
                        AoeResponder.DiscoveryListener discoveries) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Path dir = Files.createTempDirectory(scratchParent, "aoe-warm-up");
        var serverLog = org.slf4j.LoggerFactory.getLogger(AoeServer.class) instanceof ch.qos.logback.classic.Logger l ? l : null;
        ch.qos.logback.classic.Level level = serverLog == null ? null : serverLog.getLevel();
        // Its "AoE on lo" and "exported" lines would read like the real target's.
        if (serverLog != null) serverLog.setLevel(ch.qos.logback.classic.Level.WARN);
        try {
            Path image = dir.resolve("image.img"), plain = dir.resolve("disk.img");
            byte[] pattern = new byte[DISK_BYTES];
            for (int i = 0; i < pattern.length; i++) pattern[i] = (byte) (i * 31 + 7);
            Files.write(image, pattern);
            try (RandomAccessFile f = new RandomAccessFile(plain.toFile(), "rw")) {
                f.setLength(DISK_BYTES);
            }
            CowBlockStore.create(image, dir.resolve("clone.img")).close();
            try (AoeServer server = new AoeServer(List.of(LOOPBACK), bufferCount, 1, packetRing,
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), new StateFiles(dir), spinNanos).start();
                 PacketSocket initiator = PacketSocket.open(LOOPBACK, AoeCodec.ETHERTYPE, 1 << 20, 100);
                 PacketSocket.Batch rx = new PacketSocket.Batch(64, AoeCodec.ETHERNET_HEADER + Math.max(initiator.mtu(), 1500))) {
                server.responder().onDiscovery(discoveries);
                server.export(definition(CLONE), BlockStores.open(dir.resolve("clone.img"), false, false, tuning));
                server.export(definition(PLAIN), BlockStores.open(plain, false, false, tuning));
                MacAddress target = MacAddress.of(initiator.mac());
                exchange(initiator, rx, List.of(config(FOREIGN_TAG)), 2, Map.of(), pattern);   // each target answers
                long lba = 0;
                int tag = 1;
                long sectors = DISK_BYTES / Ata.SECTOR;
                for (int sent = 0; sent < frames; ) {
                    List<AoeFrame> window = new ArrayList<>(WINDOW);
                    Map<Integer, Long> cloneReads = new HashMap<>();
                    for (int i = 0; i < WINDOW; i++, sent++, tag++) {
                        TargetAddress disk = (tag & 1) == 0 ? CLONE : PLAIN;
                        int kind = tag % 64;
                        int at = (int) (lba * Ata.SECTOR);
                        // Writes put back the image's own bytes, so every read of the clone can be checked against it.
                        // A flush now and then (each one an fdatasync of the scratch disk), as a PC's file system sends them.
                        AoeMessage m = kind == 0 ? ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])
                                : tag % 1024 == 48 ? ata(Ata.FLUSH_CACHE_EXT, 0, 0, new byte[0])
                                : kind < 16 ? ata(Ata.WRITE_SECTORS_EXT, SECTORS, lba, Arrays.copyOfRange(pattern, at, at + SECTORS * Ata.SECTOR))
                                : ata(Ata.READ_SECTORS_EXT, SECTORS, lba, new byte[0]);
                        if (kind >= 16 && kind != 48 && disk.equals(CLONE)) cloneReads.put(FOREIGN_TAG | tag, lba);
                        window.add(new AoeFrame(target, INITIATOR, new AoeHeader(AoeHeader.VERSION, false, false, 0, disk.shelf(), disk.slot(),
                                AoeCommand.ATA, FOREIGN_TAG | tag), m));
                        lba = (lba + SECTORS) % sectors;
                    }
                    exchange(initiator, rx, window, window.size(), cloneReads, pattern);
                    if (sent % (4 * WINDOW) == 0) {
                        // A PC's initrd asks every shelf (aoe-discover) before and while it reads: with the query
                        // only at the start, C2 compiled the per-frame path without it (decode, addressesAll, the
                        // Discovered effect) and the first PC's broadcast sent it back to the interpreter
                        // (-Xlog:deoptimization in bench/boot.sh). Both targets answer. In an exchange of its own: sent
                        // inside a window, the next window now and then lost a reply with the receive ring on the
                        // loopback device (where the server's ring also gets its own replies back); recvmmsg did not.
                        exchange(initiator, rx, List.of(config(FOREIGN_TAG | tag++)), 2, Map.of(), pattern);
                    }
                }
            }
        } finally {
            if (serverLog != null) serverLog.setLevel(level);
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static TargetDefinition definition(TargetAddress a) {
        return new TargetDefinition(a, DISK_BYTES / Ata.SECTOR, Set.of(INITIATOR), false, false, "warm-up-" + a);
    }

    /** A config query to every shelf and slot, as a PC's initrd broadcasts it. */
    private static AoeFrame config(int tag) {
        return new AoeFrame(MacAddress.BROADCAST, INITIATOR, new AoeHeader(AoeHeader.VERSION, false, false, 0, AoeHeader.ANY_SHELF, AoeHeader.ANY_SLOT,
                AoeCommand.QUERY_CONFIG, tag), new AoeMessage.QueryConfig(0, 0, 0, 1, AoeMessage.QueryConfig.READ, ByteBuffer.allocate(0)));
    }

    private static AoeMessage.Ata ata(int command, int count, long lba, byte[] data) {
        int flags = (Ata.isLba48(command) ? AoeMessage.Ata.FLAG_EXTENDED : 0) | (Ata.isWrite(command) ? AoeMessage.Ata.FLAG_WRITE : 0);
        return new AoeMessage.Ata(flags, 0, count, command, lba, ByteBuffer.wrap(data));
    }

    /**
     * Sends the frames and waits for {@code answers} replies (a reply to each of ours; anything else is skipped); the
     * replies to {@code cloneReads} (tag to LBA) must carry the image's bytes there.
     */
    private static void exchange(PacketSocket initiator, PacketSocket.Batch rx, List<AoeFrame> frames, int answers,
                                 Map<Integer, Long> cloneReads, byte[] image) throws IOException {
        for (AoeFrame f : frames) initiator.sendOne(AoeCodec.encode(f));
        long deadline = System.nanoTime() + 2_000_000_000L;
        int got = 0;
        while (got < answers) {
            if (System.nanoTime() > deadline)
                throw new IOException("the warm-up's AoE server on " + LOOPBACK + " answered " + got + " of " + answers + " frames within 2 s");
            int n = initiator.receive(rx);
            for (int i = 0; i < n; i++) {
                if (rx.outgoing(i)) continue;
                ByteBuffer frame = rx.received(i);
                // A reply: to us, with the response flag and our tag bit (the server sees our requests, and we see its replies once).
                if (frame.limit() < AoeCodec.ETHERNET_HEADER + AoeCodec.AOE_HEADER || !MacAddress.read(frame, 0).equals(INITIATOR)) continue;
                if ((frame.getInt(AoeCodec.ETHERNET_HEADER + 6) & FOREIGN_TAG) == 0) continue;
                if ((frame.get(AoeCodec.ETHERNET_HEADER) & AoeHeader.FLAG_RESPONSE) == 0) continue;
                if ((frame.get(AoeCodec.ETHERNET_HEADER) & AoeHeader.FLAG_ERROR) != 0)
                    throw new IOException("the warm-up's AoE server answered with an error");
                AoeFrame reply;
                try {
                    reply = AoeCodec.decode(frame);
                } catch (MalformedFrameException e) {
                    throw new IOException("the warm-up's AoE server sent a malformed reply: " + e.getMessage(), e);
                }
                Long lba = cloneReads.get(reply.header().tag());
                if (lba != null) {
                    ByteBuffer data = ((AoeMessage.Ata) reply.message()).payload();
                    int at = (int) (lba * Ata.SECTOR);
                    if (!data.equals(ByteBuffer.wrap(image, at, SECTORS * Ata.SECTOR)))
                        throw new IOException("the warm-up's clone read other bytes than its image's at sector " + lba);
                }
                got++;
            }
        }
    }
}
