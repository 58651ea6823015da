package dev.netboot.app;

import dev.netboot.demo.Firmware;
import dev.netboot.demo.QemuClient;
import dev.netboot.images.ImageLibrary;
import dev.netboot.loaders.DebianLoaders;
import dev.netboot.storage.Progress;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real PCs boot the demo image through the loaders the distribution packages bring, served by us from a
 * {@code dpkg -x} tree ({@code boot.loadersRoot}) with nothing copied into the boot root, each to its
 * marker with its root on its own AoE clone (of {@code disks.defaultImage}, made at its first boot):
 * PXELINUX and BIOS GRUB reading the menus we render per MAC, and a Secure Boot UEFI PC with no setting
 * changed (shim, signed GRUB, the image's signed kernel, our initrd).
 */
class LoaderBootIT {

    @TempDir static Path shared;
    @TempDir Path tmp;
    static Path rootfs;
    static Path loaders;

    @BeforeAll
    static void demoImageAndLoaders() throws Exception {
        rootfs = shared.resolve("rootfs");
        EndToEndBootIT.run(Duration.ofMinutes(5), "../images/demo/build.sh", rootfs.toString());
        loaders = DebianLoaders.tree();
    }

    @Test
    void biosPcBootsThroughPxelinux() throws Exception {
        String mac = "52:54:00:10:ad:01";
        String console = boot(mac, Firmware.BIOS_IPXE, List.of("boot.loader=pxelinux"));
        assertThat(plain(console)).as(console).contains("PXELINUX 6.04", "netboot: " + mac + " boots image demo from AoE /dev/etherd/e1.0");
        // HTTP is on, but boot.pxelinuxHttp is not: pxelinux.0 on the ROM's PXE API, kernel and initrd by TFTP.
        // (With lpxelinux.0 and HTTP, its lwIP once stopped taking the kernel half way here, for good.)
        assertThat(steps).as("boot steps").contains("tftp pxelinux.0").doesNotContain("tftp lpxelinux.0");
        assertKernelAndInitrdCameBy("tftp", "http");
    }

    @Test
    void biosPcBootsThroughGrub() throws Exception {
        String mac = "52:54:00:10:ad:02";
        String console = boot(mac, Firmware.BIOS_IPXE, List.of("boot.loader=grub"));
        assertThat(plain(console)).as(console).contains("Welcome to GRUB!", "netboot: " + mac + " boots image demo from AoE /dev/etherd/e1.0");
        // GRUB's own TCP was slower than its lockstep TFTP here (bench/results/boot-2026-12-02-053516.md): TFTP it is.
        assertKernelAndInitrdCameBy("tftp", "http");
    }

    /**
     * A UEFI PC with Secure Boot enforced (Debian's OVMF secboot build, Microsoft's keys enrolled), its NIC
     * without iPXE's ROM so EDK2's own PXE boots, and no boot setting changed: shim (signed by Microsoft),
     * Debian's signed GRUB, the image's signed kernel in lockdown, our initrd's modules (signed) loaded.
     */
    @Test
    void secureBootPcBootsThroughShimAndSignedGrubWithNoSettingChanged() throws Exception {
        String mac = "52:54:00:10:ad:03";
        String console = boot(mac, Firmware.secureBoot(DebianLoaders.ovmf()), List.of());
        assertThat(plain(console)).as(console).contains("secureboot: Secure boot enabled", "netboot: " + mac + " boots image demo from AoE /dev/etherd/e1.0");
        String kernel = kernelLine(console);
        assertThat(kernel).as(console).startsWith("NETBOOT-DEMO-KERNEL lockdown=integrity ").containsPattern("[=,]aoe,").containsPattern("[=,]virtio_net,");
        // Debian 12's signed GRUB has no http module and may load none under Secure Boot: it never tries HTTP, since an
        // error printed in the entry would make GRUB wait 10 s at "Press any key to continue..." (GRUB menus give TFTP paths).
        assertThat(plain(console)).as(console).doesNotContain("error:", "Press any key");
        assertKernelAndInitrdCameBy("tftp", "http");
    }

    /** The last boot's steps as the server recorded them: "KIND FILE" (tftp lpxelinux.0, http images/demo/vmlinuz, ...). */
    private List<String> steps = List.of();

    private void assertKernelAndInitrdCameBy(String transport, String notBy) {
        assertThat(steps).as("boot steps").anyMatch(s -> s.startsWith(transport + " ") && s.endsWith("/vmlinuz"))
                .anyMatch(s -> s.startsWith(transport + " ") && s.endsWith("/initrd.img"))
                .noneMatch(s -> s.startsWith(notBy + " ") && (s.endsWith("/vmlinuz") || s.endsWith("/initrd.img")));
    }

    /**
     * The console without terminal escapes: SeaBIOS mirrors the text screen to the serial port (qemu
     * -nographic) with cursor moves in the middle of lines, so "demo" arrives as "d ESC[25;40H ESC[25;41H emo".
     */
    static String plain(String console) {
        return console.replaceAll("\u001b\\[[0-9;?]*[A-Za-z]", "").replaceAll("\u001bc", "");
    }

    /**
     * The same image with its kernel's signature cut off (the certificate table entry zeroed, as sbattach
     * --remove leaves it): a UEFI PC without Secure Boot boots it through the same default chain; one with
     * Secure Boot gets a GRUB menu that says why it cannot, GRUB refuses the kernel, and our log says it too.
     */
    @Test
    void anUnsignedKernelBootsWithoutSecureBootAndASecureBootPcSaysWhyNot() throws Exception {
        Path unsigned = shared.resolve("unsigned-rootfs");
        EndToEndBootIT.run(Duration.ofMinutes(2), "cp", "-a", rootfs.toString(), unsigned.toString());
        Path vmlinuz = dev.netboot.aoe.GuestImage.vmlinuz(unsigned);
        byte[] kernel = java.nio.file.Files.readAllBytes(vmlinuz);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(kernel).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(b.getInt(0x3c) + 24 + 112 + 4 * 8, 0L);
        java.nio.file.Files.write(vmlinuz, kernel);
        assertThat(dev.netboot.boot.KernelSignature.of(java.nio.ByteBuffer.wrap(kernel))).isEqualTo(dev.netboot.boot.KernelSignature.UNSIGNED);

        ch.qos.logback.classic.Logger menuLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(dev.netboot.boot.menus.MenuFileProvider.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        menuLog.addAppender(logged);
        int httpPort = NetLab.freeTcpPort();
        Path ovmf = DebianLoaders.ovmf();
        String plainMac = "52:54:00:10:ad:04", secureMac = "52:54:00:10:ad:05";
        try (BootLab lab = new BootLab(tmp, List.of("http.port=" + httpPort, "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe",
                "boot.loadersRoot=" + loaders, "disks.defaultImage=unsigned", "initrd.busybox=/bin/busybox",
                "menus.kernelArgs=console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff"));
             Appliance appliance = lab.start()) {
            new ImageLibrary(appliance.inventory(), lab.data, Clock.systemUTC())
                    .importImage("unsigned", unsigned, OptionalLong.empty(), "the demo image, kernel unsigned", Progress.NONE);
            try (QemuClient pc = lab.pc(plainMac, Firmware.uefi(Firmware.Kind.UEFI_PXE, ovmf.resolve("OVMF_CODE_4M.fd"), ovmf.resolve("OVMF_VARS_4M.fd")))) {
                boolean off = pc.awaitPowerOff(Duration.ofMinutes(3));
                String console = pc.console();
                assertThat(off).as("powered off by itself\n" + console).isTrue();
                assertThat(console).as(console).contains("NETBOOT-DEMO-BOOTED mac=" + plainMac + " boot=1");
                assertThat(plain(console)).as(console).contains("secureboot: Secure boot disabled");
                assertThat(kernelLine(console)).as(console).startsWith("NETBOOT-DEMO-KERNEL lockdown=none ");
            }
            try (QemuClient pc = lab.pc(secureMac, Firmware.secureBoot(ovmf))) {
                boolean refused = pc.await(Duration.ofMinutes(3), c -> plain(c).contains("bad shim signature"));
                String console = plain(pc.console());
                assertThat(refused).as(console).isTrue();
                assertThat(console).as(console).contains("netboot: the kernel of image unsigned has no Secure Boot signature:", "netboot: with Secure Boot on, this PC refuses it; turn it off, or sign the kernel")
                        .doesNotContain("NETBOOT-DEMO-BOOTED");
            }
        } finally {
            menuLog.detachAppender(logged);
        }
        assertThat(logged.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains(secureMac + " gets GRUB (the Secure Boot chain) with image unsigned, whose kernel has no Secure Boot signature"));
    }

    /** The demo init's line with Secure Boot, lockdown and the loaded modules. */
    static String kernelLine(String console) {
        return console.lines().map(String::strip).filter(l -> l.startsWith("NETBOOT-DEMO-KERNEL")).findFirst().orElse("(no kernel line)");
    }

    /** Boots one PC with these settings on top of the lab's; returns its console once it powered off at its marker. */
    private String boot(String mac, Firmware firmware, List<String> settings) throws Exception {
        List<String> all = new ArrayList<>(settings);
        int httpPort = NetLab.freeTcpPort();
        all.addAll(List.of("http.port=" + httpPort, "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe",
                "boot.loadersRoot=" + loaders, "disks.defaultImage=demo", "initrd.busybox=/bin/busybox",
                "menus.kernelArgs=console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff"));
        try (BootLab lab = new BootLab(tmp, all)) {
            try (Appliance appliance = lab.start()) {
                new ImageLibrary(appliance.inventory(), lab.data, Clock.systemUTC())
                        .importImage("demo", rootfs, OptionalLong.empty(), "the demo image", Progress.NONE);
                try (QemuClient pc = lab.pc(mac, firmware)) {
                    boolean off = pc.awaitPowerOff(Duration.ofMinutes(3));
                    String console = pc.console();
                    assertThat(off).as("powered off by itself\n" + console).isTrue();
                    assertThat(console).as(console).contains("NETBOOT-DEMO-BOOTED mac=" + mac + " boot=1", "NETBOOT-DEMO-POWEROFF");
                    assertThat(EndToEndBootIT.filesLine(console)).isEqualTo("NETBOOT-DEMO-FILES boots-" + mac + " written-by-" + mac);
                    System.out.printf("%s: image's init at %.1f s after power-on%n", mac, pc.secondsUntil("NETBOOT-DEMO-BOOTED").orElse(Double.NaN));
                    steps = appliance.inventory().bootEvents(mac).stream().map(e -> e.kind() + " " + e.bootFile()).toList();
                    System.out.printf("%s: boot steps %s%n", mac, steps);
                    return console;
                }
            }
        }
    }
}
