package dev.netboot.app;

import dev.netboot.aoe.GuestImage;
import dev.netboot.demo.Firmware;
import dev.netboot.demo.QemuClient;
import dev.netboot.images.ImageLibrary;
import dev.netboot.storage.Progress;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * UEFI PCs (Debian's OVMF, TCG) boot the demo image to its marker from our server alone, with the root on
 * their own AoE clone, in the three ways a UEFI PC boots from the network:
 * <ul>
 * <li>qemu's iPXE EFI driver on the NIC (the combined ROM): DHCP → boot.ipxe → the per-MAC script →
 * kernel + initrd over HTTP. The kernel's EFI stub takes an initrd iPXE downloaded only when the command
 * line names it (iPXE builds before LoadFile2, like Debian's): without {@code initrd=initrd.img} it
 * panics "VFS: Unable to mount root fs";</li>
 * <li>the firmware's own PXE client (no ROM on the NIC): DHCP with option 93 = 7 → {@code snponly.efi}
 * over TFTP (port 69, as the firmware asks) → iPXE on the firmware's NIC driver → as above;</li>
 * <li>the firmware's own HTTP boot (no ROM, PXE switched off): DHCP with vendor class HTTPClient and
 * option 93 = 16 → our offer echoes HTTPClient with a URL → {@code snponly.efi} over HTTP → as above.</li>
 * </ul>
 */
class UefiBootIT {

    static final String KARGS = "console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff";

    @TempDir static Path shared;
    static Path rootfs;
    static Path snponly;

    @TempDir Path tmp;

    @BeforeAll
    static void demoImageAndLoader() throws Exception {
        rootfs = shared.resolve("rootfs");
        EndToEndBootIT.run(Duration.ofMinutes(5), "../images/demo/build.sh", rootfs.toString());
        snponly = GuestImage.debianPackage("ipxe").resolve("usr/lib/ipxe/snponly.efi");
    }

    @Test
    void uefiPcWithTheIpxeEfiDriverBootsItsClone() throws Exception {
        String mac = "52:54:00:ef:00:01";
        int httpPort = NetLab.freeTcpPort();
        String console = boot(mac, Firmware.Kind.UEFI_IPXE, List.of("tftp.enabled=false", "http.port=" + httpPort,
                "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"));
        assertThat(console).contains("iPXE");
    }

    @Test
    void uefiPcWhoseFirmwareDoesPxeGetsItsLoaderOverTftpAndBootsItsClone() throws Exception {
        String mac = "52:54:00:ef:00:02";
        int httpPort = NetLab.freeTcpPort();
        String console = boot(mac, Firmware.Kind.UEFI_PXE, List.of("tftp.port=69", "http.port=" + httpPort,
                "boot.uefiX64=loaders/snponly.efi", "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"));
        assertThat(console).contains("Start PXE over IPv4", "NBP filename is loaders/snponly.efi");
    }

    @Test
    void uefiHttpBootGetsItsLoaderByUrlAndBootsItsClone() throws Exception {
        String mac = "52:54:00:ef:00:03";
        int httpPort = NetLab.freeTcpPort();
        String console = boot(mac, Firmware.Kind.UEFI_HTTP, List.of("tftp.enabled=false", "http.port=" + httpPort,
                "boot.httpBoot=http://${server}:" + httpPort + "/boot/loaders/snponly.efi",
                "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"));
        assertThat(console).contains("Start HTTP Boot over IPv4", "URI: http://").doesNotContain("Start PXE over IPv4");
    }

    @Test
    void uefiPcWhoseFirmwareDoesPxeBootsFromOurProxyDhcpBesideDnsmasq() throws Exception {
        String mac = "52:54:00:ef:00:04";
        int httpPort = NetLab.freeTcpPort();
        String console = boot(mac, Firmware.Kind.UEFI_PXE, List.of("dhcp.mode=proxy", "tftp.port=69", "http.port=" + httpPort,
                "boot.uefiX64=loaders/snponly.efi", "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"));
        assertThat(console).contains("Start PXE over IPv4", "NBP filename is loaders/snponly.efi");
    }

    @Test
    void uefiHttpBootFromOurProxyDhcpBesideDnsmasq() throws Exception {
        String mac = "52:54:00:ef:00:05";
        int httpPort = NetLab.freeTcpPort();
        String console = boot(mac, Firmware.Kind.UEFI_HTTP, List.of("dhcp.mode=proxy", "tftp.enabled=false", "http.port=" + httpPort,
                "boot.httpBoot=http://${server}:" + httpPort + "/boot/loaders/snponly.efi",
                "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe"));
        assertThat(console).contains("Start HTTP Boot over IPv4", "URI: http://").doesNotContain("Start PXE over IPv4");
    }

    /**
     * Boots one PC of this kind with a clone of the demo image assigned; returns its console. With
     * {@code dhcp.mode=proxy} among the settings, dnsmasq (in a namespace on the lab bridge) hands out the
     * addresses and we only add the boot information.
     */
    String boot(String mac, Firmware.Kind kind, List<String> extra) throws Exception {
        Files.createDirectories(tmp.resolve("data/boot/loaders"));
        Files.copy(snponly, tmp.resolve("data/boot/loaders/snponly.efi"));
        List<String> settings = new ArrayList<>(extra);
        settings.addAll(List.of("initrd.busybox=/bin/busybox", "menus.kernelArgs=" + KARGS));
        try (BootLab lab = new BootLab(tmp, settings)) {
            if (settings.contains("dhcp.mode=proxy")) addressesFromDnsmasq(lab);
            return boot(lab, mac, kind);
        }
    }

    private String boot(BootLab lab, String mac, Firmware.Kind kind) throws Exception {
        try (Appliance appliance = lab.start()) {
            new ImageLibrary(appliance.inventory(), lab.data, Clock.systemUTC())
                    .importImage("demo", rootfs, OptionalLong.empty(), "the demo image", Progress.NONE);
            String[] clone = lab.cli("clone", "demo", "--to", mac);
            assertThat(clone[0]).as(clone[1]).contains("client " + mac + ": image demo", "AoE e1.0");
            try (QemuClient pc = lab.pc(mac, BootLab.uefi(kind))) {
                boolean off = pc.awaitPowerOff(Duration.ofMinutes(3));
                String console = pc.console();
                assertThat(off).as("the PC powered off by itself\n" + console).isTrue();
                assertThat(console).as(console).contains("netboot: " + mac + " boots image demo", "netboot: mounting /dev/etherd/e1.0",
                        "NETBOOT-DEMO-BOOTED mac=" + mac + " boot=1", "NETBOOT-DEMO-POWEROFF").doesNotContain("Kernel panic");
                assertThat(EndToEndBootIT.filesLine(console)).isEqualTo("NETBOOT-DEMO-FILES boots-" + mac + " written-by-" + mac);
                System.out.printf("%s (%s): image's init at %.1f s after power-on%n", mac, kind,
                        pc.secondsUntil("NETBOOT-DEMO-BOOTED").orElse(Double.NaN));
                return console;
            }
        }
    }

    /** dnsmasq as the network's own DHCP server: addresses only (.150-.159), no boot information. */
    private void addressesFromDnsmasq(BootLab lab) {
        var ns = lab.net.namespace("dnsmasq");
        var link = lab.bridge.connect(ns);
        String prefix = lab.bridge.subnet().dottedPrefix();
        ns.start("dnsmasq", "-d", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-hosts", "--no-ping",
                "--bind-interfaces", "--interface=" + link.peerName(), "--pid-file=" + tmp.resolve("dnsmasq.pid"),
                "--dhcp-range=" + prefix + "150," + prefix + "159,255.255.255.0,10m", "--dhcp-leasefile=" + tmp.resolve("leases"));
    }
}
