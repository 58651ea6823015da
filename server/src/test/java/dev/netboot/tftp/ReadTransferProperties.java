package dev.netboot.tftp;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import dev.netboot.files.BytesFile;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whatever the network does (loss, duplication, reordering in both directions), a transfer delivers
 * exactly the file, and duplicate ACKs never multiply the traffic.
 */
class ReadTransferProperties {

    private static final long MS = 1_000_000;

    @Property(tries = 500)
    void lossyNetworkStillDeliversExactlyTheFile(@ForAll @IntRange(min = 0, max = 20_000) int size,
                                                 @ForAll @IntRange(min = 1, max = 16) int window,
                                                 @ForAll @IntRange(min = 0, max = 30) int lossPercent,
                                                 @ForAll @IntRange(min = 0, max = 20) int duplicatePercent,
                                                 @ForAll long seed) {
        Random random = new Random(seed);
        int blockSize = 64;
        BytesFile file = InMemoryFile.ofSize(size);
        var options = new TransferOptions(blockSize, window, Optional.empty(), Map.of("blksize", "64", "windowsize", Integer.toString(window)));
        ReadTransfer t = new ReadTransfer(file, options, new RetransmitPolicy(Duration.ofMillis(50), Duration.ofMillis(5), Duration.ofMillis(200), Duration.ofSeconds(10)));

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        long[] expected = {1};
        int[] sinceAck = {0};
        boolean[] gotOack = {false};
        Deque<TftpPacket> toClient = new ArrayDeque<>();
        Deque<TftpPacket> toServer = new ArrayDeque<>();
        long now = 0;
        int clientTimer = 0;
        int sentByServer = 0;

        deliver(t.start(now), toClient, random, lossPercent, duplicatePercent);
        for (int step = 0; step < 200_000 && !t.isFinished(); step++) {
            now += MS;
            if (!toClient.isEmpty()) {
                TftpPacket p = take(toClient, random);
                List<TftpPacket> replies = new ArrayList<>();
                switch (p) {
                    case TftpPacket.OptionAck o -> { gotOack[0] = true; replies.add(new TftpPacket.Ack(0)); }
                    case TftpPacket.Data d when gotOack[0] -> {
                        if (d.block() == (int) (expected[0] & 0xFFFF)) {
                            byte[] b = new byte[d.length()];
                            d.payload().duplicate().get(b);
                            received.writeBytes(b);
                            expected[0]++;
                            if (++sinceAck[0] == window || d.length() < blockSize) {
                                sinceAck[0] = 0;
                                replies.add(new TftpPacket.Ack((int) ((expected[0] - 1) & 0xFFFF)));
                            }
                        } else {
                            sinceAck[0] = 0;
                            replies.add(new TftpPacket.Ack((int) ((expected[0] - 1) & 0xFFFF)));
                        }
                    }
                    default -> { }
                }
                clientTimer = 0;
                deliver(replies, toServer, random, lossPercent, duplicatePercent);
            } else if (gotOack[0] && ++clientTimer > 500) {
                // The client's own timeout: re-ACK where it stands (a duplicate the server must ignore).
                // Before the OACK arrived a real client has nothing to ACK; the server resends the OACK.
                clientTimer = 0;
                deliver(List.of(new TftpPacket.Ack((int) ((expected[0] - 1) & 0xFFFF))), toServer, random, lossPercent, duplicatePercent);
            }
            while (!toServer.isEmpty()) {
                List<TftpPacket> out = t.onPacket(take(toServer, random), now);
                sentByServer += out.size();
                deliver(out, toClient, random, lossPercent, duplicatePercent);
            }
            List<TftpPacket> resent = t.onTimeout(now);
            sentByServer += resent.size();
            deliver(resent, toClient, random, lossPercent, duplicatePercent);
        }
        // 10 s without progress means ~50 timeouts in a row at <= 30 % loss each way (p < 1e-14): it must complete.
        assertThat(t.state()).isEqualTo(ReadTransfer.State.COMPLETE);
        assertThat(received.toByteArray()).isEqualTo(file.bytes());
        long blocks = size / blockSize + 1;
        // No amplification: traffic stays within a small multiple of what loss alone explains.
        assertThat(sentByServer).isLessThan((int) (blocks * window * 4 + 200));
    }

    private static TftpPacket take(Deque<TftpPacket> queue, Random random) {
        // Mild reordering: sometimes the second packet overtakes the first.
        if (queue.size() > 1 && random.nextInt(10) == 0) {
            TftpPacket first = queue.pollFirst();
            TftpPacket second = queue.pollFirst();
            queue.addFirst(first);
            return second;
        }
        return queue.pollFirst();
    }

    private static void deliver(List<TftpPacket> packets, Deque<TftpPacket> queue, Random random, int lossPercent, int duplicatePercent) {
        for (TftpPacket p : packets) {
            if (random.nextInt(100) < lossPercent) continue;
            queue.addLast(p);
            if (random.nextInt(100) < duplicatePercent) queue.addLast(p);
        }
    }
}
