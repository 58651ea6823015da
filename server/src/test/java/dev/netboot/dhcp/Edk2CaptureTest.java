package dev.netboot.dhcp;

import dev.netboot.boot.BootFiles;
import dev.netboot.boot.RuleBootPolicy;
import dev.netboot.net.Ipv4;
import dev.netboot.pcap.Pcap;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What OVMF (EDK2 2022.11, Debian 12) sends when it boots from the network by itself, fed from the
 * captured exchanges with our server ({@link Pcap#EDK2_PXE}, {@link Pcap#EDK2_HTTP_BOOT}): what it asks
 * and what our engine must answer for the firmware to take the offer, in full and in proxy mode.
 */
class Edk2CaptureTest {

    /** The lab bridge of the PXE capture: the server was .1, the pool .100-.119. */
    static final Ipv4 LOCAL = Ipv4.parse("198.18.130.1");
    static final Pool POOL = new Pool(Ipv4.parse("198.18.130.0"), 24, Ipv4.parse("198.18.130.100"), Ipv4.parse("198.18.130.119"),
            Ipv4.ANY, List.of(), "", 600);
    /** The HTTP-boot capture's lab had another subnet. */
    static final Ipv4 HTTP_LOCAL = Ipv4.parse("198.19.18.1");
    static final Pool HTTP_POOL = new Pool(Ipv4.parse("198.19.18.0"), 24, Ipv4.parse("198.19.18.100"), Ipv4.parse("198.19.18.119"),
            Ipv4.ANY, List.of(), "", 600);
    static final BootFiles FILES = new BootFiles("undionly.kpxe", "loaders/snponly.efi", "ipxe-arm64.efi",
            "http://198.18.130.1:8080/boot/loaders/snponly.efi", "http://198.18.130.1:8080/boot/boot.ipxe");
    final Instant now = Instant.parse("2026-12-01T22:20:52Z");

    static DhcpEngine engine(DhcpMode mode) { return engine(mode, POOL); }

    static DhcpEngine engine(DhcpMode mode, Pool pool) {
        return new DhcpEngine(new DhcpSettings(mode, mode == DhcpMode.FULL ? List.of(pool) : List.of(), List.of(), Ipv4.ANY,
                Duration.ofSeconds(30), Duration.ofMinutes(10)), new RuleBootPolicy(FILES, "", mac -> Optional.empty()), List.of());
    }

    /** The client's messages of a capture (BOOTREQUESTs), decoded. */
    static List<DhcpMessage> fromFirmware(String capture) {
        return CapturedPackets.dhcp(capture).stream().map(b -> {
            try {
                return DhcpCodec.decode(ByteBuffer.wrap(b));
            } catch (MalformedPacketException e) {
                throw new AssertionError(e);
            }
        }).filter(m -> m.op() == DhcpMessage.BOOTREQUEST).toList();
    }

    Outbound reply(DhcpEngine e, DhcpMessage m) { return reply(e, m, LOCAL); }

    Outbound reply(DhcpEngine e, DhcpMessage m, Ipv4 local) {
        Outcome o = e.handle(new Inbound(m, Ipv4.ANY, 68, local, false), now).outcome();
        assertThat(o).as("outcome for " + m.type()).isInstanceOf(Outcome.Reply.class);
        return ((Outcome.Reply) o).outbound();
    }

    @Test
    void firmwarePxeInFullModeGetsItsLoaderByTftpAndTheReplyIsBroadcast() {
        List<DhcpMessage> sent = fromFirmware(Pcap.EDK2_PXE);
        DhcpMessage discover = sent.get(0), request = sent.get(1);
        assertThat(discover.type()).isEqualTo(MessageType.DISCOVER);
        // EDK2 sets the broadcast flag: it cannot take a unicast before it has its address.
        assertThat(discover.broadcastFlag()).isTrue();
        assertThat(discover.options().text(OptionCode.VENDOR_CLASS)).contains("PXEClient:Arch:00007:UNDI:003000");

        DhcpEngine e = engine(DhcpMode.FULL);
        Outbound offer = reply(e, discover);
        assertThat(offer.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
        assertThat(offer.message().yiaddr()).isEqualTo(Ipv4.parse("198.18.130.100"));
        // The firmware takes siaddr + file (or 66/67) from the address offer itself: no option 43, no port 4011.
        assertThat(offer.message().siaddr()).isEqualTo(LOCAL);
        assertThat(offer.message().file()).isEqualTo("loaders/snponly.efi");
        assertThat(offer.message().options().text(OptionCode.BOOTFILE)).contains("loaders/snponly.efi");

        assertThat(request.type()).isEqualTo(MessageType.REQUEST);
        assertThat(request.options().address(OptionCode.REQUESTED_ADDRESS)).contains(Ipv4.parse("198.18.130.100"));
        Outbound ack = reply(e, request);
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
        assertThat(ack.message().file()).isEqualTo("loaders/snponly.efi");
    }

    @Test
    void firmwarePxeInProxyModeGetsPxeClientWithDiscoveryControlAndTheFile() {
        DhcpMessage discover = fromFirmware(Pcap.EDK2_PXE).get(0);
        Outbound offer = reply(engine(DhcpMode.PROXY), discover);
        DhcpMessage m = offer.message();
        assertThat(m.yiaddr()).isEqualTo(Ipv4.ANY);
        assertThat(m.options().text(OptionCode.VENDOR_CLASS)).contains("PXEClient");
        assertThat(m.options().get(OptionCode.VENDOR_SPECIFIC)).contains(Bytes.of((byte) 6, (byte) 1, (byte) 8, (byte) 255));
        assertThat(m.file()).isEqualTo("loaders/snponly.efi");
        assertThat(offer.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
    }

    @Test
    void httpBootGetsHttpClientBackAndAUrlInFullMode() {
        List<DhcpMessage> sent = fromFirmware(Pcap.EDK2_HTTP_BOOT);
        DhcpMessage discover = sent.get(0);
        assertThat(discover.options().text(OptionCode.VENDOR_CLASS)).contains("HTTPClient:Arch:00016:UNDI:003000");
        assertThat(discover.broadcastFlag()).isTrue();
        DhcpEngine e = engine(DhcpMode.FULL, HTTP_POOL);
        Outbound offer = reply(e, discover, HTTP_LOCAL);
        assertThat(offer.message().yiaddr()).isEqualTo(Ipv4.parse("198.19.18.100"));
        // EDK2's HttpBootDxe takes only offers whose option 60 is "HTTPClient" and whose file is a URI.
        assertThat(offer.message().options().text(OptionCode.VENDOR_CLASS)).contains("HTTPClient");
        assertThat(offer.message().options().text(OptionCode.BOOTFILE)).contains("http://198.18.130.1:8080/boot/loaders/snponly.efi");
        assertThat(offer.message().options().has(OptionCode.TFTP_SERVER)).isFalse();
        assertThat(offer.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
        Outbound ack = reply(e, sent.get(1), HTTP_LOCAL);
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.message().options().text(OptionCode.VENDOR_CLASS)).contains("HTTPClient");
        assertThat(ack.message().options().text(OptionCode.BOOTFILE)).contains("http://198.18.130.1:8080/boot/loaders/snponly.efi");
    }

    @Test
    void httpBootGetsHttpClientBackAndAUrlInProxyMode() {
        DhcpMessage discover = fromFirmware(Pcap.EDK2_HTTP_BOOT).get(0);
        Outbound offer = reply(engine(DhcpMode.PROXY), discover, HTTP_LOCAL);
        DhcpMessage m = offer.message();
        assertThat(m.yiaddr()).isEqualTo(Ipv4.ANY);
        assertThat(m.options().text(OptionCode.VENDOR_CLASS)).contains("HTTPClient");
        assertThat(m.options().text(OptionCode.BOOTFILE)).contains("http://198.18.130.1:8080/boot/loaders/snponly.efi");
        assertThat(m.options().has(OptionCode.VENDOR_SPECIFIC)).as("PXE's discovery control is not for HTTP clients").isFalse();
    }
}
