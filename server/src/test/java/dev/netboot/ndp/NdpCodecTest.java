package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.ndp.NdpMessage.RouterAdvertisement;
import dev.netboot.ndp.NdpMessage.RouterSolicitation;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NdpCodecTest {

    /** Linux's own RS on link-up (captured with tcpdump on a veth): from its link-local address, with its MAC as option. */
    static final byte[] LINUX_RS = HexFormat.of().parseHex(
            "333300000002525400aabb0286dd6000000000103afffe80000000000000505400fffeaabb02"
                    + "ff020000000000000000000000000002" + "8500632c00000000" + "0101525400aabb02");
    /** rdisc6's RS (same capture): no source link-layer option, a flow label. */
    static final byte[] RDISC6_RS = HexFormat.of().parseHex(
            "333300000002525400aabb0186dd600facf400083afffe80000000000000505400fffeaabb01"
                    + "ff020000000000000000000000000002" + "850072370000" + "0000");
    /** Our answer to LINUX_RS from 52:54:00:12:34:56; tcpdump -vv read it back as "[icmp6 sum ok] router advertisement ... router lifetime 0s". */
    static final byte[] OUR_RA = HexFormat.of().parseHex(
            "525400aabb0252540012345686dd6000000000183afffe80000000000000505400fffe123456"
                    + "fe80000000000000505400fffeaabb02" + "86006630000000000000000000000000" + "0101525400123456");
    static final MacAddress US = MacAddress.parse("52:54:00:12:34:56");

    @Test
    void decodesLinuxsSolicitation() throws Exception {
        RouterSolicitation rs = (RouterSolicitation) NdpCodec.decode(ByteBuffer.wrap(LINUX_RS)).orElseThrow();
        assertThat(rs.ethernetSource()).isEqualTo(MacAddress.parse("52:54:00:aa:bb:02"));
        assertThat(rs.ethernetDestination()).isEqualTo(MacAddress.parse("33:33:00:00:00:02"));
        assertThat(rs.source()).isEqualTo(Ipv6Address.parse("fe80::5054:ff:feaa:bb02"));
        assertThat(rs.destination()).isEqualTo(Ipv6Address.ALL_ROUTERS);
        assertThat(rs.sourceLinkLayer()).contains(MacAddress.parse("52:54:00:aa:bb:02"));
    }

    @Test
    void decodesRdisc6sSolicitationWithoutOptions() throws Exception {
        RouterSolicitation rs = (RouterSolicitation) NdpCodec.decode(ByteBuffer.wrap(RDISC6_RS)).orElseThrow();
        assertThat(rs.source()).isEqualTo(Ipv6Address.parse("fe80::5054:ff:feaa:bb01"));
        assertThat(rs.sourceLinkLayer()).isEmpty();
    }

    @Test
    void encodesTheAnswerByteForByte() throws Exception {
        RouterSolicitation rs = (RouterSolicitation) NdpCodec.decode(ByteBuffer.wrap(LINUX_RS)).orElseThrow();
        byte[] ra = NdpCodec.encode(RouterSolicitationResponder.advertisement(rs, US));
        assertThat(HexFormat.of().formatHex(ra)).isEqualTo(HexFormat.of().formatHex(OUR_RA));
        RouterAdvertisement back = (RouterAdvertisement) NdpCodec.decode(ByteBuffer.wrap(ra)).orElseThrow();
        assertThat(back.routerLifetimeSeconds()).isZero();
        assertThat(back.managed() || back.other()).isFalse();
        assertThat(back.source()).isEqualTo(Ipv6Address.parse("fe80::5054:ff:fe12:3456"));
        assertThat(back.sourceLinkLayer()).contains(US);
    }

    @Test
    void decodesAtTheBuffersPositionAndIgnoresEthernetPadding() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(RDISC6_RS.length + 20);
        b.position(7).put(RDISC6_RS).put(new byte[13]).position(7);
        assertThat(NdpCodec.decode(b)).containsInstanceOf(RouterSolicitation.class);
        assertThat(b.position()).isEqualTo(7);
    }

    @Test
    void everyRuleOfRfc4861IsChecked() {
        assertMalformed(with(LINUX_RS, 21, 64), "hop limit 64");
        assertMalformed(with(LINUX_RS, 55, 1), "code 1");
        assertMalformed(with(LINUX_RS, 57, 0x2d), "bad ICMPv6 checksum");
        assertMalformed(with(LINUX_RS, 14, 0x40), "IP version 4");
        assertMalformed(with(LINUX_RS, 19, 0xFF), "payload length 255");
        assertMalformed(java.util.Arrays.copyOf(LINUX_RS, 40), "cut short");
        assertMalformed(with(with(LINUX_RS, 63, 0), 57, 0x2d), "length 0");   // option length 0, checksum kept right
        assertMalformed(with(LINUX_RS, 6, 0x53), "group Ethernet address");
    }

    @Test
    void solicitationFromTheUnspecifiedAddressMustNotCarryALinkLayerAddress() {
        RouterSolicitation rs = new RouterSolicitation(MacAddress.parse("52:54:00:aa:bb:02"), Ipv6Address.ALL_ROUTERS.multicastMac(),
                Ipv6Address.UNSPECIFIED, Ipv6Address.ALL_ROUTERS, Optional.of(MacAddress.parse("52:54:00:aa:bb:02")));
        assertMalformed(NdpCodec.encode(rs), "unspecified address");
    }

    @Test
    void otherTrafficIsNotOurs() throws Exception {
        assertThat(NdpCodec.decode(ByteBuffer.wrap(with(LINUX_RS, 12, 0x08)))).isEmpty();   // not IPv6
        assertThat(NdpCodec.decode(ByteBuffer.wrap(with(LINUX_RS, 20, 17)))).isEmpty();    // UDP
        assertThat(NdpCodec.decode(ByteBuffer.wrap(with(LINUX_RS, 54, 135)))).isEmpty();   // neighbour solicitation
        assertThat(NdpCodec.decode(ByteBuffer.wrap(new byte[5]))).isEmpty();
    }

    @Test
    void linkLocalAddressesComeFromTheMacLikeLinuxMakesThem() {
        assertThat(Ipv6Address.linkLocal(MacAddress.parse("52:54:00:aa:bb:01")).toString()).isEqualTo("fe80::5054:ff:feaa:bb01");
        assertThat(Ipv6Address.linkLocal(MacAddress.parse("00:00:00:00:00:00")).toString()).isEqualTo("fe80::200:ff:fe00:0");
        assertThat(Ipv6Address.ALL_NODES.multicastMac()).isEqualTo(MacAddress.parse("33:33:00:00:00:01"));
        assertThat(Ipv6Address.parse("2001:db8::1:0:0:1").toString()).isEqualTo("2001:db8::1:0:0:1");
        assertThat(Ipv6Address.UNSPECIFIED.toString()).isEqualTo("::");
    }

    static byte[] with(byte[] frame, int index, int value) {
        byte[] copy = frame.clone();
        copy[index] = (byte) value;
        return copy;
    }

    static void assertMalformed(byte[] frame, String message) {
        assertThatThrownBy(() -> NdpCodec.decode(ByteBuffer.wrap(frame))).isInstanceOf(MalformedNdpException.class).hasMessageContaining(message);
    }
}
