package dev.netboot.tftp;

import dev.netboot.testlib.Fuzz;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** 10^6 mutated and random datagrams at the TFTP decoder: decoded or refused as malformed, never a crash. */
class TftpMillionInputsTest {

    @Test
    void aMillionInputsNeverCrashTheDecoder() {
        List<byte[]> seeds = List.of(
                bytes(new TftpPacket.ReadRequest("pxelinux.0", "octet", Map.of("blksize", "1468", "tsize", "0", "windowsize", "16"))),
                bytes(new TftpPacket.ReadRequest("boot/x64/wdsnbp.com", "netascii", Map.of())),
                bytes(new TftpPacket.Ack(65535)),
                bytes(new TftpPacket.Data(7, ByteBuffer.wrap(new byte[512]))),
                bytes(new TftpPacket.Error(TftpError.FILE_NOT_FOUND, "not found")),
                bytes(new TftpPacket.OptionAck(Map.of("blksize", "1468"))));
        Fuzz.Outcome o = Fuzz.run(seeds, Fuzz.MILLION, 0x7f7f_0001L, MalformedPacketException.class,
                b -> TftpCodec.decode(ByteBuffer.wrap(b)));
        assertThat(o.decoded()).as("mutations too brutal to reach the decoder's depths").isGreaterThan(Fuzz.MILLION / 20);
        assertThat(o.refused()).isGreaterThan(Fuzz.MILLION / 20);
    }

    private static byte[] bytes(TftpPacket p) {
        ByteBuffer b = TftpCodec.encode(p);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
