package dev.netboot.tftp;

import dev.netboot.files.BytesFile;
import dev.netboot.pcap.Pcap;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What OVMF's own PXE client (EDK2, Debian 12) sends, fed from the captured exchange
 * ({@link Pcap#EDK2_PXE}): first a tsize query it ends with ERROR 8 at our OACK, then the real read
 * with blksize 1468 and windowsize 4.
 */
class Edk2PxeCaptureTest {

    private static final RetransmitPolicy POLICY = new RetransmitPolicy(Duration.ofMillis(100), Duration.ofMillis(10), Duration.ofMillis(400), Duration.ofMillis(1000));

    /** The TFTP datagrams the firmware sent (to port 69 or to a transfer's port), in order. */
    static List<TftpPacket> fromFirmware() throws Exception {
        return Pcap.udp(Pcap.frames(Edk2PxeCaptureTest.class, Pcap.EDK2_PXE)).stream()
                .filter(u -> u.srcPort() != 67 && u.srcPort() != 68 && u.dstPort() != 67 && u.dstPort() != 68)
                .filter(u -> (u.srcIp()[3] & 0xFF) != 1)   // the server is .1 on the lab bridge
                .map(u -> {
                    try {
                        return TftpCodec.decode(ByteBuffer.wrap(u.payload()));
                    } catch (MalformedPacketException e) {
                        throw new AssertionError(e);
                    }
                }).toList();
    }

    @Test
    void theFirmwaresSizeQueryEndsAsASizeQueryNotAFailure() throws Exception {
        List<TftpPacket> sent = fromFirmware();
        TftpPacket.ReadRequest query = (TftpPacket.ReadRequest) sent.get(0);
        assertThat(query.options()).containsEntry("tsize", "0").containsEntry("blksize", "1468").containsEntry("windowsize", "4");
        TftpPacket.Error abort = (TftpPacket.Error) sent.get(1);
        assertThat(abort.code().code()).isEqualTo(8);

        BytesFile file = new BytesFile(new byte[173_792]);
        var outcome = (OptionNegotiator.Accepted) new OptionNegotiator(64).negotiate(query.options(), file.size(), 1468);
        ReadTransfer t = new ReadTransfer(file, outcome.options(), POLICY);
        List<TftpPacket> first = t.start(0);
        assertThat(((TftpPacket.OptionAck) first.getFirst()).options()).containsEntry("tsize", "173792");
        assertThat(t.onPacket(abort, 1_000_000)).isEmpty();
        assertThat(t.state()).isEqualTo(ReadTransfer.State.SIZE_QUERIED);
        assertThat(t.isFinished()).isTrue();
        assertThat(t.deadlineNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void theRealReadGetsTheBlockAndWindowSizeTheFirmwareAsks() throws Exception {
        List<TftpPacket> sent = fromFirmware();
        TftpPacket.ReadRequest read = (TftpPacket.ReadRequest) sent.get(2);
        assertThat(read.options()).doesNotContainKey("tsize");
        TftpPacket.Ack ackOfOack = (TftpPacket.Ack) sent.get(3);
        BytesFile file = new BytesFile(new byte[173_792]);
        var outcome = (OptionNegotiator.Accepted) new OptionNegotiator(64).negotiate(read.options(), file.size(), 1468);
        assertThat(outcome.options().blockSize()).isEqualTo(1468);
        assertThat(outcome.options().windowSize()).isEqualTo(4);
        ReadTransfer t = new ReadTransfer(file, outcome.options(), POLICY);
        t.start(0);
        List<TftpPacket> window = t.onPacket(ackOfOack, 1_000_000);
        assertThat(window).hasSize(4).allSatisfy(p -> assertThat(((TftpPacket.Data) p).length()).isEqualTo(1468));
    }

    @Test
    void anErrorAtAnOackWithoutTsizeIsStillAFailure() {
        BytesFile file = new BytesFile(new byte[10_000]);
        var outcome = (OptionNegotiator.Accepted) new OptionNegotiator(64).negotiate(java.util.Map.of("blksize", "1468"), file.size(), 1468);
        ReadTransfer t = new ReadTransfer(file, outcome.options(), POLICY);
        t.start(0);
        t.onPacket(new TftpPacket.Error(TftpError.OPTION_REFUSED, "no"), 1);
        assertThat(t.state()).isEqualTo(ReadTransfer.State.FAILED);
    }
}
