package dev.netboot.boot.menus;

import dev.netboot.app.Appliance;
import dev.netboot.boot.initrd.DebianKernel;
import dev.netboot.config.ConfigLoader;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.TapDevice;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A machine boots over the network up to its root disk: qemu's iPXE ROM (virtio NIC) gets an address
 * from dnsmasq and boot information from our proxyDHCP, fetches boot.ipxe, which chains to the script
 * rendered for its MAC, which loads the image's kernel (Debian's cloud kernel) and the initrd we build
 * for it. The initrd's init raises the NIC and looks for the assigned AoE disk e1.2; no AoE target
 * answers yet, so the console must end in the init saying so.
 */
class NetworkBootIT {

    static final String MAC = "52:54:00:4e:42:07";

    @TempDir Path tmp;

    @Test
    void ipxeBootsTheKernelAndInitrdItsMenuNames() throws Exception {
        Path image = DebianKernel.unpack(tmp);
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
            try (Appliance appliance = new Appliance(ConfigLoader.load(Optional.empty(), List.of(
                    "dataDir=" + data, "networkInterface=" + bridge.name(), "dhcp.mode=proxy",
                    "tftp.enabled=false", "http.address=" + server, "http.port=" + httpPort,
                    "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe",
                    "menus.dir=" + tmp.resolve("no-menus"), "initrd.templates=" + tmp.resolve("no-templates"), "initrd.busybox=/bin/busybox",
                    "menus.kernelArgs=console=ttyS0 panic=-1 no_timer_check netboot.aoewait=2 netboot.aoetries=1"))).start()) {
                var inventory = appliance.inventory();
                inventory.addClient(MAC, "node7", "");
                long imageId = inventory.addImage("debian-cloud", image.toString(), "", Instant.now());
                inventory.assign(MAC, imageId, inventory.addDisk("node7", imageId, tmp.resolve("disk").toString(), 1 << 20, Instant.now()), 1, 2);

                Path log = tmp.resolve("console.log");
                Process qemu = new ProcessBuilder("qemu-system-x86_64", "-nographic", "-m", "256", "-no-reboot", "-boot", "n",
                        "-machine", "accel=tcg", "-cpu", "max",
                        "-netdev", "tap,id=n0,ifname=" + tap.name() + ",script=no,downscript=no",
                        "-device", "virtio-net-pci,netdev=n0,mac=" + MAC)
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                String console = "";
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
                    while (System.nanoTime() < deadline && qemu.isAlive()) {
                        console = Files.readString(log);
                        if (console.contains("netboot: FAILED:")) break;
                        Thread.sleep(500);
                    }
                } finally {
                    qemu.destroyForcibly().waitFor();
                }
                console = Files.readString(log);
                assertThat(console).as(console)
                        .contains("netboot: " + MAC + " boots image debian-cloud from AoE /dev/etherd/e1.2")
                        .containsPattern("netboot: booting from \\S+ \\(" + MAC + "\\)")
                        .contains("netboot: link up on", "netboot: looking for AoE disk e1.2",
                                "netboot: FAILED: AoE disk e1.2 did not appear after 1 tries");
            }
        }
    }
}
