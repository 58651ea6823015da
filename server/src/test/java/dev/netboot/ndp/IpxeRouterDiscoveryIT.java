package dev.netboot.ndp;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.demo.QemuClient;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.TapDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reason the ndp package exists: Debian's iPXE ROM (qemu, TCG) prints "Configuring (net0 …)" and
 * then " ok" only when both its DHCP and its IPv6 router discovery are done. With our server the
 * only one on the segment (full mode), our lifetime-0 advertisement must end router discovery right
 * after DHCP; with it switched off, the same boot waits for iPXE's router discovery to time out.
 * The second test is the control: it shows the first one measures what it claims to.
 */
class IpxeRouterDiscoveryIT {

    static final String MAC = "52:54:00:4e:44:01";
    /** iPXE's DHCP is done well within this even under TCG on a busy machine; its router discovery gives up after ~15 s. */
    static final double FAST_SECONDS = 6;
    static final double SLOW_SECONDS = 10;
    /** What iPXE prints when it starts all its configurators (DHCP, IPv6) on the NIC; " ok" follows when all are done. */
    static final String CONFIGURING = "Configuring (net0";

    @TempDir Path tmp;

    @Test
    void ipxeIsConfiguredRightAfterDhcpWhenWeAnswerItsRouterSolicitation() throws Exception {
        double seconds = configuringToOk("on");
        assertThat(seconds).as("seconds from iPXE's 'Configuring' to 'ok'").isLessThan(FAST_SECONDS);
    }

    @Test
    void withoutOurAdvertisementIpxeWaitsForRouterDiscoveryToTimeOut() throws Exception {
        double seconds = configuringToOk("off");
        assertThat(seconds).as("seconds from iPXE's 'Configuring' to 'ok'").isGreaterThan(SLOW_SECONDS);
    }

    /** Boots one PC with {@code dhcp.routerAdvertisements=setting} and times its "Configuring … ok" on the console. */
    private double configuringToOk(String setting) throws Exception {
        try (NetLab lab = NetLab.create()) {
            Bridge bridge = lab.bridge(null);
            TapDevice tap = lab.tap(null);
            bridge.attach(tap.name());
            String prefix = bridge.subnet().dottedPrefix();
            Path data = tmp.resolve("data-" + setting);
            Path config = Files.writeString(Files.createDirectories(data).resolve("netboot.yaml"), """
                    dhcp:
                      mode: full
                      probeForeignServer: false
                      routerAdvertisements: %s
                      pools:
                        - {subnet: %s0/24, range: %s100-%s109, leaseSeconds: 600}
                    """.formatted(setting, prefix, prefix, prefix));
            try (Appliance ignored = new Appliance(ConfigLoader.load(Optional.of(config), List.of("dataDir=" + data,
                    "networkInterface=" + bridge.name(), "tftp.enabled=false", "http.enabled=false"))).start();
                 QemuClient pc = QemuClient.start(tap.name(), MAC, tmp.resolve("console-" + setting + ".log"), 128)) {
                boolean configured = pc.await(Duration.ofSeconds(120), c -> c.contains(CONFIGURING)
                        && c.indexOf(" ok", c.indexOf(CONFIGURING) + CONFIGURING.length()) > 0);
                String console = pc.console();
                assertThat(configured).as("iPXE configured its NIC; console:\n" + console).isTrue();
                double seconds = pc.secondsBetween(CONFIGURING, " ok").orElseThrow();
                String line = console.substring(console.indexOf(CONFIGURING)).lines().findFirst().orElse("").replaceAll("\\p{Cntrl}\\[[0-9;]*[A-Za-z]", "");
                System.out.printf("iPXE with dhcp.routerAdvertisements=%s: 'Configuring' to 'ok' in %.1f s (%s)%n", setting, seconds, line.strip());
                return seconds;
            }
        }
    }
}
