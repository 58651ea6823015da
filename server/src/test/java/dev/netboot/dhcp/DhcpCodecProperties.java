package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;

import static org.assertj.core.api.Assertions.assertThat;

class DhcpCodecProperties {

    @Property(tries = 500)
    void encodeThenDecodeGivesTheMessageBack(@ForAll("messages") DhcpMessage m) throws Exception {
        assertThat(DhcpCodec.decode(ByteBuffer.wrap(DhcpCodec.encode(m)))).isEqualTo(m);
    }

    @Property(tries = 2000)
    void arbitraryBytesEitherDecodeOrAreMalformed(@ForAll byte[] datagram) {
        try {
            DhcpMessage m = DhcpCodec.decode(ByteBuffer.wrap(datagram));
            // Whatever decodes must encode again and mean the same.
            assertThat(DhcpCodec.decode(ByteBuffer.wrap(DhcpCodec.encode(m)))).isEqualTo(m);
        } catch (MalformedPacketException expected) {
            assertThat(expected.reason()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<DhcpMessage> messages() {
        Arbitrary<Ipv4> ip = Arbitraries.integers().map(Ipv4::new);
        Arbitrary<Bytes> chaddr = Arbitraries.bytes().array(byte[].class).ofMaxSize(16).map(Bytes::of);
        Arbitrary<String> field = Arbitraries.strings().withCharRange('\u0001', '\u00ff').ofMaxLength(63);
        Arbitrary<DhcpOptions> options = Arbitraries.maps(Arbitraries.integers().between(1, 254).filter(c -> c != OptionCode.OVERLOAD),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(600).map(Bytes::of)).ofMaxSize(12)
                .map(m -> DhcpOptions.of(new LinkedHashMap<>(m)));
        return Combinators.combine(
                        Arbitraries.of(DhcpMessage.BOOTREQUEST, DhcpMessage.BOOTREPLY),
                        Arbitraries.integers().between(0, 255),
                        Arbitraries.integers(),
                        Arbitraries.integers().between(0, 0xFFFF),
                        ip, ip, chaddr, field)
                .flatAs((op, hops, xid, flags, ci, gi, hw, sname) -> Combinators.combine(field, options, ip)
                        .as((file, opts, yi) -> new DhcpMessage(op, 1, hops, xid, flags ^ 0x1234 & 0xFFFF, flags,
                                ci, yi, Ipv4.ANY, gi, hw, sname, file, opts)));
    }
}
