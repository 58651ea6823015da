package dev.netboot.tftp;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TftpCodecProperties {

    @Property
    void everyPacketSurvivesEncodeThenDecode(@ForAll("packets") TftpPacket packet) throws Exception {
        ByteBuffer wire = TftpCodec.encode(packet);
        assertThat(wire.remaining()).isEqualTo(TftpCodec.encodedLength(packet));
        assertThat(TftpCodec.decode(wire)).isEqualTo(packet);
    }

    @Property(tries = 3000)
    void arbitraryBytesDecodeOrFailCleanly(@ForAll @Size(max = 600) byte[] datagram) {
        try {
            TftpPacket packet = TftpCodec.decode(ByteBuffer.wrap(datagram));
            // Whatever decodes must encode again without error (no half-valid values inside records).
            TftpCodec.encode(packet);
        } catch (MalformedPacketException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Property(tries = 2000)
    void truncatingAValidRequestNeverCrashesTheDecoder(@ForAll("requests") TftpPacket request, @ForAll int cut) {
        ByteBuffer wire = TftpCodec.encode(request);
        int keep = Math.floorMod(cut, wire.remaining());
        try {
            TftpCodec.decode(wire.limit(keep));
        } catch (MalformedPacketException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<TftpPacket> packets() {
        return Arbitraries.oneOf(requests(), data(), acks(), errors(), optionAcks());
    }

    @Provide
    Arbitrary<TftpPacket> requests() {
        return Combinators.combine(names(), Arbitraries.of("octet", "netascii"), options(), Arbitraries.of(true, false))
                .as((file, mode, opts, read) -> read ? new TftpPacket.ReadRequest(file, mode, opts) : new TftpPacket.WriteRequest(file, mode, opts));
    }

    private Arbitrary<TftpPacket> data() {
        return Combinators.combine(Arbitraries.integers().between(0, 0xFFFF), Arbitraries.bytes().array(byte[].class).ofMaxSize(1500))
                .as((block, payload) -> new TftpPacket.Data(block, ByteBuffer.wrap(payload)));
    }

    private Arbitrary<TftpPacket> acks() {
        return Arbitraries.integers().between(0, 0xFFFF).map(TftpPacket.Ack::new);
    }

    private Arbitrary<TftpPacket> errors() {
        return Combinators.combine(Arbitraries.of(TftpError.class), names()).as(TftpPacket.Error::new);
    }

    private Arbitrary<TftpPacket> optionAcks() {
        return options().filter(m -> !m.isEmpty()).map(TftpPacket.OptionAck::new);
    }

    private Arbitrary<String> names() {
        return Arbitraries.strings().withCharRange(' ', '~').withCharRange('\u00a0', '\u00ff').ofMinLength(1).ofMaxLength(60);
    }

    private Arbitrary<Map<String, String>> options() {
        return Arbitraries.maps(names().map(s -> s.toLowerCase(java.util.Locale.ROOT)), names()).ofMaxSize(5);
    }
}
