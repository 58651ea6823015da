package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DhcpCodecTest {

    private static DhcpMessage decode(byte[] b) throws MalformedPacketException {
        return DhcpCodec.decode(ByteBuffer.wrap(b));
    }

    @Test
    void decodesIpxeDiscoverFromTheCapture() throws Exception {
        List<byte[]> packets = CapturedPackets.dhcp();
        assertThat(packets).hasSizeGreaterThanOrEqualTo(4);
        DhcpMessage discover = decode(packets.get(0));
        assertThat(discover.op()).isEqualTo(DhcpMessage.BOOTREQUEST);
        assertThat(discover.type()).isEqualTo(MessageType.DISCOVER);
        assertThat(discover.clientMac()).isEqualTo("52:54:00:12:34:56");
        assertThat(discover.xid()).isEqualTo(0x84056478);
        DhcpOptions o = discover.options();
        assertThat(o.clientArch()).contains(0);
        assertThat(o.text(OptionCode.VENDOR_CLASS)).contains("PXEClient:Arch:00000:UNDI:002001");
        // iPXE's raw form of option 77: not RFC 3004 length-prefixed, one class "iPXE".
        assertThat(o.userClasses()).containsExactly("iPXE");
        assertThat(o.uint16(OptionCode.MAX_MESSAGE_SIZE)).contains(1472);
        assertThat(o.get(OptionCode.CLIENT_NDI)).contains(Bytes.of((byte) 1, (byte) 2, (byte) 1));
        assertThat(o.get(OptionCode.IPXE_ENCAP).orElseThrow().length()).isEqualTo(48);
        assertThat(o.clientUuid()).contains("00000000-0000-0000-0000-000000000000");
        assertThat(o.parameterRequestList()).contains(1, 3, 6, 43, 60, 66, 67, 175);
    }

    @Test
    void decodesDnsmasqOffer() throws Exception {
        DhcpMessage offer = CapturedPackets.dhcp().stream().map(b -> {
            try {
                return decode(b);
            } catch (MalformedPacketException e) {
                throw new AssertionError(e);
            }
        }).filter(m -> m.type() == MessageType.OFFER).findFirst().orElseThrow();
        assertThat(offer.yiaddr()).isEqualTo(Ipv4.parse("10.77.0.157"));
        assertThat(offer.siaddr()).isEqualTo(Ipv4.parse("10.77.0.1"));
        assertThat(offer.options().address(OptionCode.SERVER_ID)).contains(Ipv4.parse("10.77.0.1"));
        assertThat(offer.options().uint32(OptionCode.LEASE_TIME)).contains(3600L);
        assertThat(offer.options().text(OptionCode.BOOTFILE)).contains("boot.ipxe");
    }

    @Test
    void everyCapturedPacketSurvivesReencodingByteForByteUpToTheEndOption() throws Exception {
        for (byte[] packet : CapturedPackets.dhcp()) {
            DhcpMessage m = decode(packet);
            byte[] again = DhcpCodec.encode(m);
            assertThat(decode(again)).isEqualTo(m);
            // The captured packets have no option padding, so the bytes up to END match exactly.
            int end = endOfOptions(packet);
            assertThat(Arrays.copyOf(again, end)).isEqualTo(Arrays.copyOf(packet, end));
        }
    }

    private static int endOfOptions(byte[] p) {
        int i = 240;
        while (p[i] != (byte) 255) i = p[i] == 0 ? i + 1 : i + 2 + (p[i + 1] & 0xFF);
        return i + 1;
    }

    @Test
    void userClassInRfc3004Form() {
        DhcpOptions o = DhcpOptions.build(b -> b.bytes(OptionCode.USER_CLASS, (byte) 4, (byte) 'i', (byte) 'P', (byte) 'X', (byte) 'E',
                (byte) 2, (byte) 'a', (byte) 'b'));
        assertThat(o.userClasses()).containsExactly("iPXE", "ab");
    }

    @Test
    void longOptionsAreSplitAndJoined() throws Exception {
        byte[] big = new byte[600];
        for (int i = 0; i < big.length; i++) big[i] = (byte) i;
        DhcpMessage m = DhcpMessage.request(7, Bytes.hex("525400123456"),
                DhcpOptions.build(b -> b.messageType(MessageType.DISCOVER).put(OptionCode.VENDOR_SPECIFIC, Bytes.of(big))));
        assertThat(decode(DhcpCodec.encode(m))).isEqualTo(m);
    }

    @Test
    void overloadedFileAndSnameFieldsAreRead() throws Exception {
        byte[] p = DhcpCodec.encode(DhcpMessage.request(1, Bytes.hex("525400123456"),
                DhcpOptions.build(b -> b.messageType(MessageType.DISCOVER).uint8(OptionCode.OVERLOAD, 3))));
        p[108] = 12; p[109] = 2; p[110] = 'h'; p[111] = 'x'; p[112] = (byte) 255;     // hostname in file
        p[44] = 15; p[45] = 1; p[46] = 'd'; p[47] = (byte) 255;                          // domain in sname
        DhcpMessage m = decode(p);
        assertThat(m.options().text(OptionCode.HOSTNAME)).contains("hx");
        assertThat(m.options().text(OptionCode.DOMAIN_NAME)).contains("d");
        assertThat(m.options().has(OptionCode.OVERLOAD)).isFalse();
        assertThat(m.file()).isEmpty();
        assertThat(m.sname()).isEmpty();
    }

    @Test
    void overloadInsideAnOverloadedFieldIsALoop() {
        byte[] p = DhcpCodec.encode(DhcpMessage.request(1, Bytes.hex("525400123456"),
                DhcpOptions.build(b -> b.messageType(MessageType.DISCOVER).uint8(OptionCode.OVERLOAD, 1))));
        p[108] = 52; p[109] = 1; p[110] = 3; p[111] = (byte) 255;
        assertThatThrownBy(() -> decode(p)).isInstanceOf(MalformedPacketException.class)
                .extracting(e -> ((MalformedPacketException) e).reason()).isEqualTo("overload-loop");
    }

    @Test
    void badInputIsRejectedWithAReason() throws Exception {
        byte[] good = CapturedPackets.dhcp().get(0);
        assertThat(reason(Arrays.copyOf(good, 239))).isEqualTo("truncated");
        byte[] cookie = good.clone();
        cookie[237] = 0;
        assertThat(reason(cookie)).isEqualTo("bad-cookie");
        byte[] hlen = good.clone();
        hlen[2] = 17;
        assertThat(reason(hlen)).isEqualTo("bad-hlen");
        byte[] overrun = Arrays.copyOf(good, 244);
        overrun[240] = 53; overrun[241] = 9;
        assertThat(reason(overrun)).isEqualTo("option-overrun");
        byte[] op = good.clone();
        op[0] = 3;
        assertThat(reason(op)).isEqualTo("bad-op");
    }

    @Test
    void aMessageWithoutOption53DecodesWithoutAType() throws Exception {
        DhcpMessage m = decode(DhcpCodec.encode(DhcpMessage.request(1, Bytes.hex("525400123456"), DhcpOptions.NONE)));
        assertThat(m.type()).isNull();
    }

    private static String reason(byte[] p) {
        try {
            decode(p);
            return "decoded";
        } catch (MalformedPacketException e) {
            return e.reason();
        }
    }
}
