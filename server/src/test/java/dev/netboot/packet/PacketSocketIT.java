package dev.netboot.packet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Commands;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packet socket's ways of receiving (recvmmsg, PACKET_MMAP receive ring) and its batch sending,
 * against a plain socket on the other end of a veth pair: every frame arrives once, in order, with
 * its length and bytes, in both directions and across many wraps of the ring.
 */
class PacketSocketIT {

    static final int ETHERTYPE = 0x88B5; // IEEE "local experimental": nobody else's traffic
    // Both ends in this namespace (NetLab puts a veth peer into a namespace, where this JVM cannot open it).
    final String under = "nbps" + ProcessHandle.current().pid() + "a", peer = "nbps" + ProcessHandle.current().pid() + "b";

    @AfterEach
    void cleanUp() throws Exception {
        ip("link", "del", under);
    }

    private static void ip(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        CommandResult r = Commands.run(Commands.SETUP_TIMEOUT, List.of(cmd));
        if (!r.ok() && !args[1].equals("del")) throw new IllegalStateException(String.join(" ", cmd) + ": " + r.stdout() + r.stderr());
    }

    @ParameterizedTest(name = "receive ring {0}")
    @ValueSource(booleans = {false, true})
    void framesCrossBothWaysIntactAndInOrder(boolean rxRing) throws Exception {
        ip("link", "add", under, "type", "veth", "peer", "name", peer);
        ip("link", "set", under, "up");
        ip("link", "set", peer, "up");
        // A small ring (64 KiB: 32 slots) so that 3000 frames wrap it many times.
        try (PacketSocket under = PacketSocket.open(this.under, ETHERTYPE, 1 << 16, 200, rxRing);
             PacketSocket peer = PacketSocket.open(this.peer, ETHERTYPE, 4 << 20, 200, false);
             PacketSocket.Batch rx = new PacketSocket.Batch(64, 1514);
             PacketSocket.Batch peerRx = new PacketSocket.Batch(64, 1514);
             PacketSocket.Batch tx = new PacketSocket.Batch(16, 1514)) {
            byte[] underMac = under.mac(), peerMac = peer.mac();
            int total = 3000;
            // Peer -> socket under test, 16 frames at a time: the receive ring holds 32, and the frames of
            // the last batch stay ours (unavailable to the kernel) until the next receive.
            int received = 0;
            for (int sent = 0; sent < total; ) {
                int chunk = Math.min(16, total - sent);
                for (int k = 0; k < chunk; k++) peer.sendOne(frame(underMac, peerMac, sent + k));
                sent += chunk;
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (received < sent && System.nanoTime() < deadline) {
                    int n = under.receive(rx);
                    for (int i = 0; i < n; i++) {
                        assertThat(rx.outgoing(i)).isFalse();
                        assertThat(hex(rx.received(i))).as("frame " + received).isEqualTo(hex(frame(underMac, peerMac, received)));
                        received++;
                    }
                }
                assertThat(received).as("frames received by the socket under test").isEqualTo(sent);
            }
            // Socket under test -> peer, in batches of up to 16.
            int got = 0;
            for (int sent = 0; sent < total; ) {
                int chunk = Math.min(16, total - sent);
                for (int k = 0; k < chunk; k++) {
                    ByteBuffer f = frame(peerMac, underMac, sent + k);
                    ByteBuffer slot = tx.slot(k);
                    slot.put(f);
                    tx.length(k, slot.position());
                }
                under.send(tx, chunk);
                sent += chunk;
                got = drain(peer, peerRx, peerMac, underMac, got, sent);
            }
            // A single frame from another thread.
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    under.sendOne(frame(peerMac, underMac, total));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            t.join();
            drain(peer, peerRx, peerMac, underMac, got, total + 1);
        }
    }

    private static int drain(PacketSocket peer, PacketSocket.Batch rx, byte[] to, byte[] from, int got, int want) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (got < want && System.nanoTime() < deadline) {
            int n = peer.receive(rx);
            for (int i = 0; i < n; i++) {
                assertThat(hex(rx.received(i))).as("frame " + got + " at the peer").isEqualTo(hex(frame(to, from, got)));
                got++;
            }
        }
        assertThat(got).as("frames the peer received").isEqualTo(want);
        return got;
    }

    /** Frame {@code n}: lengths from 60 to 1514 bytes, contents that differ per frame and per byte. */
    static ByteBuffer frame(byte[] to, byte[] from, int n) {
        int length = 60 + (n * 97) % (1514 - 60 + 1);
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(to).put(from).putShort((short) ETHERTYPE).putInt(n);
        while (b.hasRemaining()) b.put((byte) (n * 31 + b.position()));
        return b.flip();
    }

    static String hex(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return HexFormat.of().formatHex(a);
    }
}
