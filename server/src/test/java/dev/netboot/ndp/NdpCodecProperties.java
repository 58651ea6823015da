package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.ndp.NdpMessage.RouterAdvertisement;
import dev.netboot.ndp.NdpMessage.RouterSolicitation;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class NdpCodecProperties {

    @Property(tries = 2000)
    void randomBytesAreDecodedOrRejectedWithTheDecodeException(@ForAll @Size(max = 200) byte[] bytes) {
        decodeOrMalformed(bytes);
    }

    /** Random bytes behind a header that passes the cheap tests, so the deeper checks see garbage too. */
    @Property(tries = 3000)
    void garbageBehindAnIcmpv6HeaderNeverThrowsAnythingElse(@ForAll @Size(min = 0, max = 120) byte[] tail,
                                                            @ForAll @IntRange(min = 0, max = 300) int payloadLength,
                                                            @ForAll boolean advertisement, @ForAll boolean hop255) {
        ByteBuffer f = ByteBuffer.allocate(54 + tail.length + 2);
        f.put(new byte[12]).putShort((short) 0x86DD).putInt(0x6000_0000).putShort((short) payloadLength).put((byte) 58)
                .put((byte) (hop255 ? 255 : 64)).put(new byte[32])
                .put((byte) (advertisement ? 134 : 133)).put((byte) 0).put(tail);
        decodeOrMalformed(f.array());
    }

    @Property(tries = 1000)
    void everyMessageSurvivesTheRoundTrip(@ForAll("messages") NdpMessage m) throws Exception {
        byte[] frame = NdpCodec.encode(m);
        assertThat(frame).hasSize(NdpCodec.size(m));
        assertThat(NdpCodec.decode(ByteBuffer.wrap(frame))).contains(m);
    }

    /** The ICMPv6 checksum catches every single-bit error in the pseudo-header fields and the message. */
    @Property(tries = 2000)
    void aFlippedBitNeverPassesAsASolicitation(@ForAll("solicitations") RouterSolicitation rs, @ForAll @IntRange(min = 0, max = 1000) int where,
                                               @ForAll @IntRange(min = 0, max = 7) int bit) {
        byte[] frame = NdpCodec.encode(rs);
        // the IPv6 addresses (pseudo-header) and the ICMPv6 message
        int index = 22 + where % (frame.length - 22);
        frame[index] ^= (byte) (1 << bit);
        try {
            Optional<NdpMessage> m = NdpCodec.decode(ByteBuffer.wrap(frame));
            assertThat(m).as("a changed frame decoded as %s", m).isEmpty();
        } catch (MalformedNdpException expected) {
            // caught
        }
    }

    static void decodeOrMalformed(byte[] bytes) {
        try {
            NdpCodec.decode(ByteBuffer.wrap(bytes));
        } catch (MalformedNdpException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<NdpMessage> messages() {
        return Arbitraries.oneOf(solicitations(), advertisements());
    }

    @Provide
    Arbitrary<RouterSolicitation> solicitations() {
        return Combinators.combine(unicastMacs(), macs(), addresses(), addresses(), unicastMacs().optional())
                .as((src, dst, from, to, sll) -> new RouterSolicitation(src, dst, from, to, from.isUnspecified() ? Optional.empty() : sll))
                .filter(rs -> !rs.source().isMulticast());
    }

    Arbitrary<RouterAdvertisement> advertisements() {
        Arbitrary<Ipv6Address> linkLocal = unicastMacs().map(Ipv6Address::linkLocal);
        return Combinators.combine(unicastMacs(), macs(), linkLocal, addresses(), Arbitraries.integers().between(0, 255),
                        Arbitraries.of(true, false), Arbitraries.of(true, false), Arbitraries.integers().between(0, 0xFFFF))
                .flatAs((src, dst, from, to, hops, m, o, lifetime) -> Combinators.combine(
                                Arbitraries.longs().between(0, 0xFFFF_FFFFL), Arbitraries.longs().between(0, 0xFFFF_FFFFL), unicastMacs().optional())
                        .as((reach, retrans, sll) -> new RouterAdvertisement(src, dst, from, to, hops, m, o, lifetime, reach, retrans, sll)));
    }

    static Arbitrary<MacAddress> macs() {
        return Arbitraries.longs().between(0, 0xFFFF_FFFF_FFFFL).map(MacAddress::new);
    }

    static Arbitrary<MacAddress> unicastMacs() {
        return macs().filter(m -> !m.isGroup());
    }

    static Arbitrary<Ipv6Address> addresses() {
        return Arbitraries.oneOf(
                Arbitraries.just(Ipv6Address.UNSPECIFIED),
                Arbitraries.just(Ipv6Address.ALL_ROUTERS),
                unicastMacs().map(Ipv6Address::linkLocal),
                Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as(Ipv6Address::new));
    }
}
