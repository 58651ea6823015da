package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.inventory.BootEvent;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.TapDevice;
import dev.netboot.testlib.VethPair;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real PXE ROM: qemu (SeaBIOS + Debian's iPXE ROM for e1000) on a segment where dnsmasq hands out
 * addresses and we are only the proxyDHCP server. iPXE must merge the two offers and fetch the
 * script we name over HTTP, which chains a second file. (iPXE skips the port-4011 exchange when the
 * proxy offer already holds siaddr and a file name; this test found that it ignores proxy answers
 * without siaddr.)
 */
class IpxeProxyDhcpIT {

    static final String MAC = "52:54:00:4e:42:01";

    @TempDir
    Path tmp;

    @Test
    void ipxeBootsOurScriptBesideDnsmasq() throws Exception {
        try (NetLab lab = NetLab.create()) {
            Bridge bridge = lab.bridge(null);
            Namespace dnsmasqNs = lab.namespace("dnsmasq");
            VethPair dnsmasqLink = bridge.connect(dnsmasqNs);
            String prefix = bridge.subnet().dottedPrefix();
            dnsmasqNs.start("dnsmasq", "-d", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-hosts", "--no-ping",
                    "--bind-interfaces", "--interface=" + dnsmasqLink.peerName(), "--pid-file=" + tmp.resolve("dnsmasq.pid"),
                    "--dhcp-range=" + prefix + "150," + prefix + "159,255.255.255.0,10m", "--dhcp-leasefile=" + tmp.resolve("leases"));
            TapDevice tap = lab.tap(null);
            bridge.attach(tap.name());

            String server = bridge.address().getHostAddress();
            int httpPort = NetLab.freeTcpPort();
            Path data = tmp.resolve("data");
            Files.createDirectories(data.resolve("boot"));
            Files.writeString(data.resolve("boot/boot.ipxe"), "#!ipxe\necho netboot proxyDHCP ok\nchain http://" + server + ":" + httpPort + "/boot/second.ipxe\n");
            Files.writeString(data.resolve("boot/second.ipxe"), "#!ipxe\necho second\nsleep 60\n");
            try (Appliance appliance = new Appliance(ConfigLoader.load(Optional.empty(), List.of(
                    "dataDir=" + data, "networkInterface=" + bridge.name(), "dhcp.mode=proxy",
                    "tftp.enabled=false", "http.address=" + server, "http.port=" + httpPort,
                    "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"))).start()) {
                Process qemu = new ProcessBuilder("qemu-system-x86_64", "-nographic", "-m", "128", "-no-reboot", "-boot", "n",
                        "-netdev", "tap,id=n0,ifname=" + tap.name() + ",script=no,downscript=no",
                        "-device", "e1000,netdev=n0,mac=" + MAC)
                        .redirectErrorStream(true).redirectOutput(tmp.resolve("qemu.log").toFile()).start();
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (served(appliance) < 2 && System.nanoTime() < deadline && qemu.isAlive()) Thread.sleep(200);
                    assertThat(served(appliance)).as("boot.ipxe and the second.ipxe it chains were fetched; qemu log:\n"
                            + Files.readString(tmp.resolve("qemu.log"))).isEqualTo(2.0);
                } finally {
                    qemu.destroyForcibly().waitFor();
                }
                assertThat(appliance.dhcpEngine().leases()).as("proxy mode never leases").isEmpty();
                Thread.sleep(300); // boot events are written off the event loop
                List<BootEvent> events = appliance.inventory().bootEvents(MAC);
                String dhcpCounters = appliance.registry().getMeters().stream().filter(m -> m.getId().getName().startsWith("netboot.dhcp"))
                        .map(m -> m.getId().getName() + m.getId().getTags() + "=" + m.measure().iterator().next().getValue()).toList().toString();
                assertThat(events).as(dhcpCounters).extracting(BootEvent::kind).contains("dhcp-discover", "dhcp-boot");
                assertThat(events).filteredOn(e -> e.kind().equals("dhcp-boot")).first()
                        .extracting(BootEvent::bootFile).isEqualTo("http://" + server + ":" + httpPort + "/boot/boot.ipxe");
                assertThat(appliance.inventory().client(MAC)).get().extracting(c -> c.architecture()).isEqualTo("bios");
            }
        }
    }

    private static double served(Appliance appliance) {
        Counter c = appliance.registry().find("netboot.http.files").tag("result", "served").counter();
        return c == null ? 0 : c.count();
    }
}
