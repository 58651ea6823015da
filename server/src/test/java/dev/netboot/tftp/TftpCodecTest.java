package dev.netboot.tftp;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TftpCodecTest {

    private static ByteBuffer bytes(Object... parts) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        for (Object p : parts) {
            if (p instanceof Integer i) b.putShort(i.shortValue());
            else if (p instanceof String s) b.put(s.getBytes(StandardCharsets.ISO_8859_1)).put((byte) 0);
            else if (p instanceof byte[] raw) b.put(raw);
        }
        return b.flip();
    }

    @Test
    void decodesReadRequestWithOptionsAsCurlSendsThem() throws Exception {
        var packet = TftpCodec.decode(bytes(1, "pxelinux.0", "octet", "tsize", "0", "BLKSIZE", "1468", "windowsize", "16"));
        assertThat(packet).isEqualTo(new TftpPacket.ReadRequest("pxelinux.0", "octet",
                Map.of("tsize", "0", "blksize", "1468", "windowsize", "16")));
        assertThat(((TftpPacket.ReadRequest) packet).options().keySet()).containsExactly("tsize", "blksize", "windowsize");
    }

    @Test
    void modeIsCaseInsensitive() throws Exception {
        assertThat(((TftpPacket.ReadRequest) TftpCodec.decode(bytes(1, "f", "OCTET"))).mode()).isEqualTo("octet");
    }

    @Test
    void toleratesTrailingNulPadding() throws Exception {
        var packet = TftpCodec.decode(bytes(1, "f", "octet", new byte[]{0, 0, 0}));
        assertThat(packet).isEqualTo(new TftpPacket.ReadRequest("f", "octet", Map.of()));
    }

    @Test
    void errorMessageWithoutNulIsAccepted() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(9).putShort((short) 5).putShort((short) 8).put("nope!".getBytes()).flip();
        assertThat(TftpCodec.decode(b)).isEqualTo(new TftpPacket.Error(TftpError.OPTION_REFUSED, "nope!"));
    }

    @Test
    void rejectsMalformedPacketsWithAReason() {
        assertMalformed(ByteBuffer.allocate(1), "shorter than an opcode");
        assertMalformed(bytes(9, "x"), "unknown opcode 9");
        assertMalformed(bytes(1, new byte[]{'a', 'b'}), "filename is not NUL-terminated");
        assertMalformed(bytes(1, "f", new byte[]{'o', 'c'}), "mode is not NUL-terminated");
        assertMalformed(bytes(1, "", "octet"), "empty filename");
        assertMalformed(bytes(1, "f", "octet", "blksize"), "has no value");
        assertMalformed(bytes(1, "f", "octet", "blksize", "512", "BlkSize", "1024"), "given twice");
        assertMalformed(bytes(1, "a\nb", "octet"), "control byte");
        assertMalformed(bytes(4), "ACK packet without block number");
        assertMalformed(bytes(4, 1, new byte[]{7}), "trailing bytes");
        assertMalformed(bytes(5), "without error code");
    }

    @Test
    void refusesOverlongStrings() {
        assertMalformed(bytes(1, "a".repeat(TftpCodec.MAX_STRING + 1), "octet"), "longer than");
    }

    @Test
    void encodesDataWithBlockNumberAndPayload() {
        ByteBuffer out = TftpCodec.encode(new TftpPacket.Data(0xFFFF, ByteBuffer.wrap(new byte[]{1, 2, 3})));
        assertThat(out.remaining()).isEqualTo(7);
        assertThat(out.getShort() & 0xFFFF).isEqualTo(3);
        assertThat(out.getShort() & 0xFFFF).isEqualTo(0xFFFF);
        assertThat(new byte[]{out.get(), out.get(), out.get()}).containsExactly(1, 2, 3);
    }

    @Test
    void encodesOptionAckInInsertionOrder() {
        var oack = new TftpPacket.OptionAck(new java.util.LinkedHashMap<>(Map.of("blksize", "1468")));
        assertThat(TftpCodec.encode(oack)).isEqualTo(bytes(6, "blksize", "1468"));
    }

    private static void assertMalformed(ByteBuffer datagram, String reason) {
        assertThatThrownBy(() -> TftpCodec.decode(datagram)).isInstanceOf(MalformedPacketException.class).hasMessageContaining(reason);
    }
}
