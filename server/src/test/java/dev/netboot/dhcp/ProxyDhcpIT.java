package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.app.Appliance;
import dev.netboot.pcap.Pcap;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * proxyDHCP on a segment whose addresses a real dnsmasq hands out: the PXE client gets its address
 * from dnsmasq and its boot file from us, and we never offer an address.
 * <pre>
 *   bridge in the host namespace (our server) ── dnsmasq ns
 *                                            └── client ns (dhclient, tcpdump)
 * </pre>
 */
class ProxyDhcpIT {

    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;
    NetLab lab;
    Bridge bridge;
    Namespace dnsmasqNs;
    VethPair dnsmasqLink;
    String prefix;

    @BeforeEach
    void segmentWithDnsmasq() throws Exception {
        lab = NetLab.create();
        bridge = lab.bridge(null);
        dnsmasqNs = lab.namespace("dnsmasq");
        dnsmasqLink = bridge.connect(dnsmasqNs);
        prefix = bridge.subnet().dottedPrefix();
        dnsmasqNs.start("dnsmasq", "-d", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-hosts", "--no-ping",
                "--bind-interfaces", "--interface=" + dnsmasqLink.peerName(), "--pid-file=" + tmp.resolve("dnsmasq.pid"),
                "--dhcp-range=" + prefix + "150," + prefix + "159,255.255.255.0,10m", "--dhcp-leasefile=" + tmp.resolve("dnsmasq.leases"));
        Thread.sleep(300);
    }

    @AfterEach
    void cleanup() {
        if (lab != null) lab.close();
    }

    @Test
    void pxeClientGetsTheAddressFromDnsmasqAndTheBootFileFromUs() throws Exception {
        Namespace client = lab.namespace("pxe");
        VethPair link = bridge.connect(client);
        client.execOk(WAIT, "ip", "addr", "flush", "dev", link.peerName());
        Path capture = tmp.resolve("client.pcap");
        Process tcpdump = client.start("tcpdump", "-i", link.peerName(), "-U", "-n", "-w", capture.toString(), "udp", "port", "68");
        Thread.sleep(500);
        try (Appliance server = DhcpHarness.start(tmp.resolve("data"), bridge.name(), "mode: proxy\n")) {
            Path conf = tmp.resolve("dhclient.conf");
            // A PXE ROM merges both offers; dhclient takes one lease, and "require subnet-mask" makes it
            // skip our address-less proxy offer, as a ROM does when it picks its address.
            Files.writeString(conf, """
                    option pxe-arch code 93 = unsigned integer 16;
                    send pxe-arch 0;
                    send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";
                    require subnet-mask;
                    """);
            Path script = DhcpHarness.clientScript(tmp, "pxe.sh");
            client.start("dhclient", "-4", "-d", "-1", "-cf", conf.toString(), "-lf", tmp.resolve("l").toString(),
                    "-pf", tmp.resolve("p").toString(), "-sf", script.toString(), link.peerName());
            Map<String, String> env = DhcpHarness.awaitEnv(tmp.resolve("pxe.BOUND.env"), WAIT);
            assertThat(env.get("new_ip_address")).matches(java.util.regex.Pattern.quote(prefix) + "15[0-9]");
            assertThat(env).containsEntry("new_dhcp_server_identifier", dnsmasqLink.peerAddress().getHostAddress());
            assertThat(server.dhcpEngine().leases()).as("proxy mode never leases").isEmpty();
            // The client was quicker than our first answer (a cold JVM); the capture still shows what it got.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (ourReplies(capture).isEmpty() && System.nanoTime() < deadline) Thread.sleep(100);
        }
        tcpdump.destroy();
        tcpdump.waitFor();
        List<DhcpMessage> ours = ourReplies(capture);
        assertThat(ours).as("our proxy offers, as the client received them").isNotEmpty().allSatisfy(m -> {
            assertThat(m.type()).isEqualTo(MessageType.OFFER);
            assertThat(m.yiaddr()).isEqualTo(Ipv4.ANY);
            assertThat(m.siaddr()).isEqualTo(Ipv4.of(bridge.address()));
            assertThat(m.file()).isEqualTo("undionly.kpxe");
            assertThat(m.options().text(OptionCode.VENDOR_CLASS)).contains("PXEClient");
            assertThat(m.options().get(OptionCode.VENDOR_SPECIFIC)).isPresent();
            assertThat(m.options().has(OptionCode.LEASE_TIME)).isFalse();
        });
    }

    private List<DhcpMessage> ourReplies(Path capture) throws Exception {
        List<DhcpMessage> ours = new ArrayList<>();
        if (Files.size(capture) < 24) return ours;
        for (Pcap.Udp u : Pcap.udp(Pcap.frames(capture))) {
            DhcpMessage m = DhcpCodec.decode(ByteBuffer.wrap(u.payload()));
            if (m.op() == DhcpMessage.BOOTREPLY && m.options().address(OptionCode.SERVER_ID).orElseThrow().equals(Ipv4.of(bridge.address()))) {
                ours.add(m);
            }
        }
        return ours;
    }

    @Test
    void probeFindsTheOtherServer() throws Exception {
        Set<Ipv4> found;
        var group = dev.netboot.transport.Transport.best().newGroup(1);
        try {
            ServedInterface nic = ServedInterface.resolve(bridge.name()).getFirst();
            found = ForeignServerProbe.probe(nic, dev.netboot.transport.Transport.best(), group, Duration.ofSeconds(2));
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertThat(found).containsExactly(Ipv4.of(dnsmasqLink.peerAddress()));
    }
}
