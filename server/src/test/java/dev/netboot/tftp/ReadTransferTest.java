package dev.netboot.tftp;

import org.junit.jupiter.api.Test;

import dev.netboot.files.BytesFile;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ReadTransferTest {

    private static final long MS = 1_000_000;
    private static final RetransmitPolicy POLICY = new RetransmitPolicy(Duration.ofMillis(100), Duration.ofMillis(10), Duration.ofMillis(400), Duration.ofMillis(1000));

    private static TransferOptions options(int blockSize, int window, boolean oack) {
        return new TransferOptions(blockSize, window, Optional.empty(), oack ? Map.of("blksize", Integer.toString(blockSize)) : Map.of());
    }

    /** Lock-step or windowed receiver following RFC 1350/7440: ACKs the window end or the last in-order block. */
    private static final class Receiver {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final int blockSize;
        final int window;
        long expected = 1;
        int inWindow;
        boolean done;

        Receiver(int blockSize, int window) { this.blockSize = blockSize; this.window = window; }

        /** @return the ACK to send, if any */
        Optional<TftpPacket.Ack> onData(TftpPacket.Data d) {
            if (d.block() == (int) (expected & 0xFFFF)) {
                byte[] b = new byte[d.length()];
                d.payload().duplicate().get(b);
                received.writeBytes(b);
                expected++;
                inWindow++;
                if (d.length() < blockSize) done = true;
                if (done || inWindow == window) {
                    inWindow = 0;
                    return Optional.of(new TftpPacket.Ack((int) ((expected - 1) & 0xFFFF)));
                }
                return Optional.empty();
            }
            // Out of order or duplicate: tell the sender where we are (RFC 7440 §4).
            inWindow = 0;
            return Optional.of(new TftpPacket.Ack((int) ((expected - 1) & 0xFFFF)));
        }
    }

    /** Runs a loss-free transfer to the end and returns what the receiver got. */
    private static byte[] runClean(BytesFile file, TransferOptions options) {
        ReadTransfer t = new ReadTransfer(file, options, POLICY);
        Receiver r = new Receiver(options.blockSize(), options.windowSize());
        long now = 0;
        List<TftpPacket> out = t.start(now);
        if (options.sendsOptionAck()) {
            assertThat(out).singleElement().isInstanceOf(TftpPacket.OptionAck.class);
            out = t.onPacket(new TftpPacket.Ack(0), now += MS);
        }
        while (!t.isFinished()) {
            assertThat(out).as("a transfer in progress always has something in flight").isNotEmpty();
            assertThat(out.size()).isLessThanOrEqualTo(options.windowSize());
            List<TftpPacket> next = List.of();
            for (TftpPacket p : out) {
                Optional<TftpPacket.Ack> ack = r.onData((TftpPacket.Data) p);
                if (ack.isPresent()) next = t.onPacket(ack.get(), now += MS);
            }
            out = next;
        }
        assertThat(t.state()).isEqualTo(ReadTransfer.State.COMPLETE);
        assertThat(t.retransmissions()).isZero();
        return r.received.toByteArray();
    }

    @Test
    void lockStepTransferDeliversTheFile() {
        BytesFile file = InMemoryFile.ofSize(5000);
        assertThat(runClean(file, options(512, 1, false))).isEqualTo(file.bytes());
    }

    @Test
    void emptyFileIsOneEmptyBlock() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(0), options(512, 1, false), POLICY);
        assertThat(t.start(0)).containsExactly(new TftpPacket.Data(1, ByteBuffer.allocate(0)));
        t.onPacket(new TftpPacket.Ack(1), MS);
        assertThat(t.state()).isEqualTo(ReadTransfer.State.COMPLETE);
    }

    @Test
    void exactMultipleOfBlockSizeEndsWithAnEmptyBlock() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(1024), options(512, 4, false), POLICY);
        List<TftpPacket> window = t.start(0);
        assertThat(window).hasSize(3);
        assertThat(((TftpPacket.Data) window.get(2)).length()).isZero();
    }

    @Test
    void oackComesFirstWhenOptionsWereNegotiated() {
        BytesFile file = InMemoryFile.ofSize(3000);
        assertThat(runClean(file, options(1468, 1, true))).isEqualTo(file.bytes());
    }

    @Test
    void windowedTransferDeliversTheFile() {
        BytesFile file = InMemoryFile.ofSize(100_000);
        assertThat(runClean(file, options(1000, 16, true))).isEqualTo(file.bytes());
    }

    @Test
    void blockNumbersRollOverToZero() {
        // 8-byte blocks: 70,000 blocks pass 65535 without a 35 MiB file.
        BytesFile file = InMemoryFile.ofSize(8 * 70_000 + 3);
        ReadTransfer t = new ReadTransfer(file, options(8, 1, false), POLICY);
        Receiver r = new Receiver(8, 1);
        List<TftpPacket> out = t.start(0);
        boolean sawZero = false;
        while (!t.isFinished()) {
            TftpPacket.Data d = (TftpPacket.Data) out.getFirst();
            if (d.block() == 0) sawZero = true;
            out = t.onPacket(r.onData(d).orElseThrow(), 1);
        }
        assertThat(sawZero).isTrue();
        assertThat(r.received.toByteArray()).isEqualTo(file.bytes());
    }

    @Test
    void duplicateAckNeverTriggersASend() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(5000), options(512, 1, false), POLICY);
        t.start(0);
        assertThat(t.onPacket(new TftpPacket.Ack(1), MS)).hasSize(1);   // block 2
        assertThat(t.onPacket(new TftpPacket.Ack(1), 2 * MS)).isEmpty();  // the Sorcerer's Apprentice duplicate
        assertThat(t.onPacket(new TftpPacket.Ack(0), 3 * MS)).isEmpty();  // stale
        assertThat(t.onPacket(new TftpPacket.Ack(9), 3 * MS)).isEmpty();  // not sent yet
        assertThat(t.retransmissions()).isZero();
    }

    @Test
    void timeoutResendsTheWindowWithBackOffThenGivesUp() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(5000), options(512, 2, false), POLICY);
        t.start(0);
        assertThat(t.deadlineNanos()).isEqualTo(100 * MS);
        assertThat(t.onTimeout(99 * MS)).as("not due yet").isEmpty();
        List<TftpPacket> resent = t.onTimeout(100 * MS);
        assertThat(resent).extracting(p -> ((TftpPacket.Data) p).block()).containsExactly(1, 2);
        assertThat(t.deadlineNanos()).isEqualTo(100 * MS + 200 * MS);
        t.onTimeout(300 * MS);
        assertThat(t.deadlineNanos()).as("capped at max").isEqualTo(300 * MS + 400 * MS);
        assertThat(t.onTimeout(700 * MS)).hasSize(2);
        assertThat(t.onTimeout(1100 * MS)).as("1 s without progress: give up").isEmpty();
        assertThat(t.state()).isEqualTo(ReadTransfer.State.FAILED);
        assertThat(t.failure()).contains("stopped answering");
        assertThat(t.retransmissions()).isEqualTo(6);
    }

    @Test
    void ackFromInsideTheWindowResendsWhatFollowsIt() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(10_000), options(512, 4, false), POLICY);
        assertThat(t.start(0)).hasSize(4);
        List<TftpPacket> next = t.onPacket(new TftpPacket.Ack(2), MS);   // 3 and 4 were lost
        assertThat(next).extracting(p -> ((TftpPacket.Data) p).block()).containsExactly(3, 4, 5, 6);
        assertThat(t.retransmissions()).isEqualTo(2);
    }

    @Test
    void roundTripTimeShortensTheTimeout() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(100_000), options(512, 1, false), POLICY);
        t.start(0);
        long now = 0;
        for (int block = 1; block < 20; block++) t.onPacket(new TftpPacket.Ack(block), now += MS);
        assertThat(t.deadlineNanos() - now).isEqualTo(10 * MS);   // 1 ms RTT: the minimum applies
    }

    @Test
    void clientErrorEndsTheTransfer() {
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(100), options(512, 1, true), POLICY);
        t.start(0);
        assertThat(t.onPacket(new TftpPacket.Error(TftpError.OPTION_REFUSED, "no"), MS)).isEmpty();
        assertThat(t.state()).isEqualTo(ReadTransfer.State.FAILED);
        assertThat(t.deadlineNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void negotiatedTimeoutBoundsTheFirstInterval() {
        var options = new TransferOptions(512, 1, Optional.of(Duration.ofSeconds(1)), Map.of("timeout", "1"));
        ReadTransfer t = new ReadTransfer(InMemoryFile.ofSize(100), options,
                new RetransmitPolicy(Duration.ofSeconds(3), Duration.ofMillis(10), Duration.ofSeconds(10), Duration.ofSeconds(10)));
        t.start(0);
        assertThat(t.deadlineNanos()).isEqualTo(1000 * MS);
    }
}
